"""The refmatch workflow through the client openapi-python-client generated from
/v1/openapi.json, typed models only: a table and documents uploaded as JSON, a config
created, listed and patched, a run triggered and followed to completion, run detail,
results, one review and a bulk review whose answer has both outcomes. Any failure raises."""

import csv
import os
import sys
import time

from refmatch_api_client import AuthenticatedClient
from refmatch_api_client.api.documents import create_documents, get_document
from refmatch_api_client.api.matching_configs import create_config, list_configs, patch_config
from refmatch_api_client.api.operations import get_health
from refmatch_api_client.api.reference_data import create_reference_data, list_reference_data_rows
from refmatch_api_client.api.results import bulk_review_results, list_run_results, review_result
from refmatch_api_client.api.runs import get_run, get_run_progress, trigger_run
from refmatch_api_client.models import (
    BulkReviewResult,
    Config,
    ConfigList,
    ConfigPatch,
    Document,
    DocumentBatch,
    DocumentBatchInput,
    ReferenceData,
    ReferenceDataJsonInput,
    Result,
    ResultPage,
    ReviewInput,
    Run,
    RunDetail,
    RunProgress,
    RunTriggerInput,
)
from refmatch_api_client.types import Unset


def check(condition, what):
    if not condition:
        sys.exit(f"python client workflow: {what}")
    print(f"ok: {what}")


def typed(response, model, what):
    """The parsed body of a response, which must be of `model`."""
    parsed = response.parsed
    if not isinstance(parsed, model):
        sys.exit(
            f"python client workflow: {what}: HTTP {response.status_code}, "
            f"{type(parsed).__name__}: {response.content[:500]!r}"
        )
    return parsed


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def main():
    client = AuthenticatedClient(
        base_url=os.environ["REFMATCH_URL"], token=os.environ["REFMATCH_KEY"], timeout=60.0
    )
    fixtures = os.environ["REFMATCH_FIXTURES"]
    check(get_health.sync_detailed(client=client).status_code == 200, "healthz")

    # The table as JSON rows under the hosted APIs' key `data`.
    rows = read_csv(os.path.join(fixtures, "reference.csv"))
    table = typed(
        create_reference_data.sync_detailed(
            client=client,
            body=ReferenceDataJsonInput.from_dict({"name": "ledger", "data": rows}),
        ),
        ReferenceData,
        "create the reference table",
    )
    check(table.row_count == len(rows), f"table of {table.row_count} rows")
    page = list_reference_data_rows.sync_detailed(table.id, client=client, page=2, limit=50)
    check(page.status_code == 200, "rows page 2")

    # The documents as JSON, keyed by `document_id`.
    documents = []
    for row in read_csv(os.path.join(fixtures, "documents.csv")):
        document_id = row.pop("document_id")
        filename = row.pop("filename")
        documents.append(
            {"document_id": document_id, "filename": filename,
             "fields": {k: (v if v != "" else None) for k, v in row.items()}}
        )
    batch = typed(
        create_documents.sync_detailed(
            client=client, body=DocumentBatchInput.from_dict({"documents": documents})
        ),
        DocumentBatch,
        "upload the documents",
    )
    check(batch.document_count == len(documents), f"{batch.document_count} documents")
    document = typed(get_document.sync_detailed("D-0001", client=client), Document, "document D-0001")
    check(document.external_id == "D-0001", "a document found by the caller's id")

    # A config as the hosted docs write it, listed, then patched.
    import json

    with open(os.path.join(fixtures, "config.json"), encoding="utf-8") as f:
        config_body = json.load(f)
    config_body.update({"reference_data_id": str(table.id), "target_type": "run", "target_value": {}})
    config = typed(create_config.sync_detailed(client=client, body=config_body), Config, "create a config")
    configs = typed(list_configs.sync_detailed(client=client, page=1), ConfigList, "list configs")
    check(any(c.id == config.id for c in configs.data), "the config is listed")
    patched = typed(
        patch_config.sync_detailed(config.id, client=client, body=ConfigPatch.from_dict({"threshold": 0.8})),
        Config,
        "patch the threshold",
    )
    check(patched.threshold == 0.8 and len(patched.field_mappings) == 6, "threshold patched, mappings kept")
    check(patched.links.runs.endswith(f"/configs/{config.id}/run"), "links.runs starts a run")

    run = typed(
        trigger_run.sync_detailed(config.id, client=client, body=RunTriggerInput.from_dict({})),
        Run,
        "trigger a run",
    )
    deadline = time.monotonic() + 120
    while True:
        progress = typed(get_run_progress.sync_detailed(run.id, client=client), RunProgress, "progress")
        if progress.status.value not in ("queued", "running"):
            break
        if time.monotonic() > deadline:
            sys.exit("python client workflow: the run did not finish in 120 s")
        time.sleep(0.1)
    check(progress.status.value == "completed", f"run {progress.status.value}")
    detail = typed(get_run.sync_detailed(run.id, client=client), RunDetail, "run detail")
    check(detail.rows_processed == len(documents), f"run detail: {detail.rows_processed} processed")
    check(0 < len(detail.results) <= 50, f"run detail: {len(detail.results)} results")
    best = detail.results[0]
    check(isinstance(best.confidence, float) and best.status.value == "pending", "typed results")

    results = typed(
        list_run_results.sync_detailed(run.id, client=client, limit=10, page=2),
        ResultPage,
        "results page 2",
    )
    check(results.pagination.total == len(documents) and len(results.data) == 10, "results paged")
    one = typed(
        list_run_results.sync_detailed(run.id, client=client, document_id="D-0001"),
        ResultPage,
        "results of D-0001",
    )
    check(one.pagination.total == 1, "results filtered by the caller's document id")

    reviewed = typed(
        review_result.sync_detailed(
            run.id, best.id, client=client,
            body=ReviewInput.from_dict({"status": "approved", "notes": "python client"}),
        ),
        Result,
        "review one result",
    )
    check(reviewed.status.value == "approved", "approved")

    # Bulk review: two results and one id that is not a result of the run.
    ids = [str(r.id) for r in results.data[:2]] + ["00000000-0000-4000-8000-000000000000"]
    bulk = typed(
        bulk_review_results.sync_detailed(
            run.id, client=client, body={"result_ids": ids, "status": "rejected"}
        ),
        BulkReviewResult,
        "bulk review",
    )
    check(bulk.updated == 2 and bulk.failed == 1, f"bulk review: {bulk.updated} updated, {bulk.failed} failed")
    good = [o for o in bulk.results if o.ok]
    bad = [o for o in bulk.results if not o.ok]
    check(all(o.status.value == "rejected" and isinstance(o.error, Unset) for o in good), "ok outcomes typed")
    check(
        len(bad) == 1 and bad[0].error.code.value == "not_found" and isinstance(bad[0].status, Unset),
        "failed outcome typed with its error",
    )
    print("python client workflow: complete")


if __name__ == "__main__":
    main()
