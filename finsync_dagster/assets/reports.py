"""The reconciliation report asset: HTML, XLSX and CSVs under ``$FINSYNC_HOME/reports/<pair>/<run>/``.

Reads the warehouse read-only and writes files; its materialization carries the Markdown summary, a
table of the top exceptions and the report paths, so the Dagster UI shows what finance staff see.
"""

import dagster as dg

from finsync_dagster.assets.recon import match_asset_key
from finsync_dagster.ledger import Decision
from finsync_dagster.recon import MATCH_TABLES
from finsync_dagster.reports import ENTITY_TITLES, write_report
from finsync_dagster.reports.html import money
from finsync_dagster.resources import LedgerResource, WarehouseResource
from finsync_dagster.resources.settings import SettingsResource

REPORT_KEY = dg.AssetKey(["reports", "reconciliation_report"])
_TOP = 10
_EXCEPTION_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("type", "string"),
        dg.TableColumn("status", "string"),
        dg.TableColumn("reference", "string"),
        dg.TableColumn("amount_at_stake", "string", description="With its currency, exact to the cent"),
        dg.TableColumn("what_differs", "string"),
        dg.TableColumn(
            "paired_by", "string", description="The rule that paired the records, and its confidence"
        ),
    ]
)


def build_report_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        key=REPORT_KEY,
        deps=[match_asset_key(entity) for entity in MATCH_TABLES],
        group_name="reports",
        kinds={"html", "xlsx", "csv"},
        owners=["team:finance-data"],
        description="The reconciliation report finance staff read: summary, exceptions, ageing, anomalies.",
        partitions_def=partitions,
    )
    def reconciliation_report(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        settings: SettingsResource,
        ledger: LedgerResource,
    ) -> dg.MaterializeResult:
        pair = context.partition_key
        reports_dir = settings.get().reports_dir(pair)
        # Exceptions a reviewer ignored in the console are marked with their reason.
        ignored = {
            (d.entity, d.freshbooks_id, d.infor_id): f"{d.reason} ({d.actor})"
            for d in ledger.get().decisions(pair, kinds=(Decision.IGNORED,))
        }
        with warehouse.connect(pair, read_only=True) as connection:
            data, paths = write_report(
                connection, reports_dir, pair=pair, run_id=context.run.run_id, ignored=ignored
            )
        top = [
            dg.TableRecord(
                {
                    "type": ENTITY_TITLES[row["entity"]],
                    "status": row["status"],
                    "reference": row["reference"] or "",
                    "amount_at_stake": money(row["amount_at_stake"], row["currency_code"]),
                    "what_differs": row["differences_text"] or row["note"] or "",
                    "paired_by": f"{row['rule']} ({row['confidence']:.2f})" if row["rule"] else "",
                }
            )
            for row in data.exceptions[:_TOP]
        ]
        return dg.MaterializeResult(
            metadata={
                "summary": dg.MetadataValue.md(data.markdown()),
                "top_exceptions": dg.MetadataValue.table(top, schema=_EXCEPTION_SCHEMA),
                "exceptions": dg.MetadataValue.int(len(data.exceptions)),
                "html": dg.MetadataValue.path(paths.html),
                "xlsx": dg.MetadataValue.path(paths.xlsx),
                "directory": dg.MetadataValue.path(paths.directory),
            }
        )

    return reconciliation_report
