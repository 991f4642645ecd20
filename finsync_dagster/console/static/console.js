// The console's only script: small conveniences over pages that work without it.
"use strict";

function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

// Ask before a form marked data-confirm on its button is sent.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
});

// "Select all on this page" in the review queue.
document.addEventListener("change", (event) => {
  if (event.target.id !== "select-all") return;
  document.querySelectorAll("input.pick[form=batch]").forEach((box) => { box.checked = event.target.checked; });
});

// Mapping studio: show the inputs of each field's chosen rule kind, and preview as the form changes.
function showKinds(form) {
  form.querySelectorAll("tr.field").forEach((row) => {
    const kind = row.querySelector("select.kind").value;
    row.querySelectorAll(".part").forEach((part) => { part.hidden = part.dataset.kind !== kind; });
  });
}

async function preview(form) {
  const response = await fetch(form.dataset.preview, {
    method: "POST",
    body: new FormData(form),
    credentials: "same-origin",
    headers: { "X-CSRF-Token": form.elements.csrf_token.value },
  });
  if (!response.ok) return;
  const result = await response.json();
  form.querySelectorAll(".field-error").forEach((slot) => {
    const field = slot.id.slice(4);
    slot.replaceChildren(...(result.problems[field] || []).map((text) => {
      const line = document.createElement("div");
      line.textContent = text;
      return line;
    }));
  });
  // Rendered by the server with every value escaped.
  document.getElementById("preview-panel").innerHTML = result.panel;
  form.dataset.previewed = String(Number(form.dataset.previewed || 0) + 1);
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("studio-form");
  if (!form) return;
  showKinds(form);
  const later = debounce(() => preview(form), 400);
  form.addEventListener("change", (event) => {
    if (event.target.classList.contains("kind")) showKinds(form);
    later();
  });
  form.addEventListener("input", later);
});
