"""pyiqa-lifeiqa: the Life-IQA blind image quality metric as a pyiqa plugin.

Importing this package (which the installed start-up hook does in every interpreter) only adds
the ``lifeiqa`` metric entries to pyiqa's ``DEFAULT_CONFIGS``, now if pyiqa is already imported,
otherwise at the moment pyiqa loads them. It imports neither torch nor pyiqa.
"""

from pyiqa_lifeiqa.registration import register_metrics

__version__ = '0.1.0'

register_metrics()
