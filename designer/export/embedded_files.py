"""What the exported training script has in place of designer.tasks.datafiles: the script
carries a CSV task's data inside it, so it reads no file, neither one on the server nor
an upload. codegen copies these functions, as they are, into the task's code."""

from designer.tasks.base import TaskDataError


def readable_path(path):
    """This script carries its CSV data inside it: it reads no file."""
    raise TaskDataError("the CSV data is inside this script; no file is read")


def upload_path(digest):
    raise TaskDataError("the CSV data is inside this script; no file is read")
