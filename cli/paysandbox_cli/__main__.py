import os
import sys

from paysandbox_cli.main import main

try:
    sys.exit(main())
except BrokenPipeError:
    # The reader went away (`paysandbox events list | head`): stop quietly, as a shell tool
    # does, and keep the interpreter's final flush of stdout from printing another traceback.
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(141)  # 128 + SIGPIPE, what the shell reports for a command ended by a closed pipe
