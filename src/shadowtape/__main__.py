import sys

from shadowtape.cli import main

sys.exit(main())
