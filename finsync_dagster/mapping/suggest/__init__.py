"""The suggestion tool behind ``finsync mapping suggest``: a draft spec from names, descriptions and values.

Apart from the spec compiler because nothing at run time needs it: ``synonyms`` folds words into concepts,
``profile`` measures what staged values look like, ``scoring`` pairs target and source fields and drafts the
YAML. Offline, no model.
"""

from finsync_dagster.mapping.suggest.profile import Profile, profile_table
from finsync_dagster.mapping.suggest.scoring import Suggestion, draft_spec, score, suggest

__all__ = ["Profile", "Suggestion", "draft_spec", "profile_table", "score", "suggest"]
