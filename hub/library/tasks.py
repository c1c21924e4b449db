import logging

from django_tasks import task

from hub.library import files as filetypes
from hub.library.models import ResourceFile

logger = logging.getLogger(__name__)


@task()
def extract_file(*, file_id: int) -> None:
    """Read the text of one uploaded file in a child process with time and memory limits.

    Whatever happens to the child (a parser error, a bomb, a crash, a timeout), the worker
    carries on, the upload is kept, and the file is marked with what a person needs to know.
    """
    item = ResourceFile.objects.select_related("resource").filter(pk=file_id).first()
    if item is None or item.kind not in filetypes.EXTRACTABLE:
        return
    try:
        with item.file.open("rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return  # removed while waiting
    outcome = filetypes.extract_isolated(data, item.kind)
    if outcome.status != "done":
        logger.info("File %s: extraction ended as %s", item.pk, outcome.status)
    from hub.library.services import file_record_extraction

    file_record_extraction(item=item, outcome=outcome)
