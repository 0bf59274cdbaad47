import { useMemo, useRef } from 'react';
import type { DashboardState } from '../../store/dashboardState.js';
import type { DashboardStore } from '../../store/DashboardStore.js';
import type { LogRing } from '../../store/LogRing.js';
import { type LineList, type LogWindow, LogViewCache, visibleWindow } from '../../store/logView.js';

export interface LogPaneModel {
	list: LineList;
	window: LogWindow;
	/** lines matching the filter in the current scope (all lines when there is none) */
	matchCount: number;
	filterError?: string;
	/** the service whose logs are shown, null for all (or for an execution's events) */
	service: string | null;
	/** width of the `service │ ` prefix, 0 when one service or an execution is shown */
	prefixWidth: number;
	timestampWidth: number;
}

export const timestampWidth = 13;

/** What the pane shows: a ring of lines, whether they carry a service prefix, and what stands for their contents. */
interface PaneSource {
	ring: LogRing;
	service: string | null;
	prefixWidth: number;
	version: number;
}

/** The log pane's lines: the open execution's events, else the logs of the scope the user chose. */
export function paneSource(store: DashboardStore, state: DashboardState): PaneSource {
	const detail = state.executions.detail;
	if (detail) return { ring: store.executionLog.ring(detail.id), service: null, prefixWidth: 0, version: state.executionLogVersion };
	const logs = store.logs;
	const service = state.logScope === 'selected' ? state.selected : null;
	if (service !== null) return { ring: logs.ring(service), service, prefixWidth: 0, version: state.logsVersion };
	const longestName = Math.max(0, ...state.services.map((s) => s.name.length), ...logs.services.map((n) => n.length));
	return { ring: logs.all, service: null, prefixWidth: Math.min(20, longestName) + 3, version: state.logsVersion };
}

/** The lines of the log pane: only the visible window is ever turned into rows. */
export function useLogWindow(source: PaneSource, state: DashboardState, width: number, height: number): LogPaneModel {
	const cache = useRef(new LogViewCache());
	const { ring, service, prefixWidth, version } = source;
	// biome-ignore lint/correctness/useExhaustiveDependencies: version is the ring's change counter, the trigger that the ring (mutated in place) cannot be
	return useMemo(() => {
		const { list, error } = cache.current.lines(ring, state.filter.text);
		const stamp = state.timestamps ? timestampWidth : 0;
		const window = visibleWindow(list, {
			follow: state.follow,
			anchorSeq: state.anchorSeq,
			height,
			width: Math.max(10, width - prefixWidth - stamp),
			wrap: state.wrap,
		});
		return { list, window, matchCount: list.length, ...(error ? { filterError: error } : {}), service, prefixWidth, timestampWidth: stamp };
		// `version` stands for the ring's contents
	}, [ring, service, prefixWidth, version, state.filter.text, state.follow, state.anchorSeq, state.timestamps, state.wrap, width, height]);
}
