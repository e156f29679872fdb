import sys

from paysandbox_cli.main import main

sys.exit(main())
