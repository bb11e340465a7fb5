"""``python -m pyiqa_lifeiqa.cli ...`` (what torchrun launches): the ``lifeiqa`` command."""

import sys

from pyiqa_lifeiqa.cli import main

sys.exit(main())
