"""The flows a conversation can offer, found by id, title or keyword."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from bot.engine.flows import AREAS, Flow


class FlowLibrary:
    """Loaded, valid flows. The default flow (the one offered first) leads the listing."""

    def __init__(self, flows: Iterable[Flow], *, default: str = "hard-day") -> None:
        self._flows = {flow.id: flow for flow in flows}
        self.default = default if default in self._flows else next(iter(self._flows), "")

    def __iter__(self) -> Iterator[Flow]:
        def order(flow: Flow) -> tuple[int, int, str]:
            return (flow.id != self.default, AREAS.index(flow.area), flow.title)

        return iter(sorted(self._flows.values(), key=order))

    def __len__(self) -> int:
        return len(self._flows)

    def __contains__(self, flow_id: object) -> bool:
        return flow_id in self._flows

    def get(self, flow_id: str) -> Flow | None:
        return self._flows.get(flow_id)

    def find(self, text: str) -> Flow | None:
        """The flow a leader means by `text`: its id, its title, or one of its keywords."""
        wanted = " ".join(text.lower().replace("-", " ").split())
        if not wanted:
            return None
        for flow in self:
            names = {flow.id.replace("-", " "), flow.title.lower()}
            names.update(k.lower() for k in flow.keywords)
            if wanted in names:
                return flow
        return None
