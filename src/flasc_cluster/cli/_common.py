"""Names shared by the ``flasc-cluster`` modules: program name, exit statuses, errors."""

import sys

PROG = "flasc-cluster"

#: Exit statuses.
EXIT_OK = 0
EXIT_DATA_ERROR = 1
EXIT_USAGE_ERROR = 2


class CLIError(Exception):
    """An error reported as one line on stderr with the given exit status."""

    def __init__(self, message, exit_status=EXIT_DATA_ERROR):
        super().__init__(message)
        self.message = message
        self.exit_status = exit_status


def _one_line(text):
    return " ".join(str(text).split())


def _print_error(message):
    print(f"{PROG}: error: {_one_line(message)}", file=sys.stderr)
