"""Build hook: ship the start-up hook file at the root of the wheel, editable wheels included."""

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

AUTOLOAD_PTH = 'pyiqa_lifeiqa_autoload.pth'


class AutoloadPthHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict) -> None:
        key = 'force_include_editable' if version == 'editable' else 'force_include'
        build_data.setdefault(key, {})[AUTOLOAD_PTH] = AUTOLOAD_PTH
