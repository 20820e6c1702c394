import sys

from aldesk.app import main

sys.exit(main())
