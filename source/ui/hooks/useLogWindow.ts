import { useMemo, useRef } from 'react';
import type { DashboardState } from '../../store/dashboardState.js';
import type { LogBook } from '../../store/LogBook.js';
import { type LineList, type LogWindow, LogViewCache, visibleWindow } from '../../store/logView.js';

export interface LogPaneModel {
	list: LineList;
	window: LogWindow;
	/** lines matching the filter in the current scope (all lines when there is none) */
	matchCount: number;
	filterError?: string;
	/** the service whose logs are shown, null for all */
	service: string | null;
	/** width of the `service │ ` prefix, 0 when one service is shown */
	prefixWidth: number;
	timestampWidth: number;
}

export const timestampWidth = 13;

/** The lines of the log pane: only the visible window is ever turned into rows. */
export function useLogWindow(logs: LogBook, state: DashboardState, width: number, height: number): LogPaneModel {
	const cache = useRef(new LogViewCache());
	const service = state.logScope === 'selected' ? state.selected : null;
	const names = state.services.map((s) => s.name).join('\n');
	return useMemo(() => {
		const ring = service === null ? logs.all : logs.ring(service);
		const { list, error } = cache.current.lines(ring, state.filter.text);
		const longestName = Math.max(0, ...names.split('\n').map((n) => n.length), ...logs.services.map((n) => n.length));
		const prefixWidth = service === null ? Math.min(20, longestName) + 3 : 0;
		const stamp = state.timestamps ? timestampWidth : 0;
		const window = visibleWindow(list, {
			follow: state.follow,
			anchorSeq: state.anchorSeq,
			height,
			width: Math.max(10, width - prefixWidth - stamp),
			wrap: state.wrap,
		});
		return { list, window, matchCount: list.length, ...(error ? { filterError: error } : {}), service, prefixWidth, timestampWidth: stamp };
		// logsVersion stands for the rings' contents
	}, [logs, service, names, state.logsVersion, state.filter.text, state.follow, state.anchorSeq, state.timestamps, state.wrap, width, height]);
}
