import { useCallback, useRef, useSyncExternalStore } from 'react';
import type { DashboardStore } from '../../store/DashboardStore.js';
import { type DashboardState, historyCellMs, type ServiceResources } from '../../store/dashboardState.js';
import { shownFigures, shownHistory, shownTotals } from '../components/ServicesTable.js';

/**
 * The store's state, for the dashboard's root. A change the screen does not show keeps the previous
 * snapshot, so nothing is drawn for it: every commit costs Ink a whole frame, even an identical one.
 */
export function useDashboardState(store: DashboardStore): DashboardState {
	const shown = useRef<DashboardState | null>(null);
	const getSnapshot = useCallback((): DashboardState => {
		const next = store.getSnapshot();
		const previous = shown.current;
		if (previous !== null && previous !== next && !visibleChange(previous, next)) return previous;
		shown.current = next;
		return next;
	}, [store]);
	return useSyncExternalStore(store.subscribe, getSnapshot, getSnapshot);
}

/**
 * Whether going from `previous` (on the screen) to `next` changes what is drawn. Only what the
 * current view certainly does not draw is ignored: stats in the executions view (the services table
 * draws them, every 2 s) and stats that the services table shows as it shows them now (a sparkline's
 * move and the network totals wait up to a cell for another frame), the logs while an execution's events fill the pane, and executions in the
 * services view while none is open.
 */
export function visibleChange(previous: DashboardState, next: DashboardState): boolean {
	for (const key of Object.keys(next) as Array<keyof DashboardState>) {
		if (Object.is(previous[key], next[key])) continue;
		if (key === 'resources' && (next.view === 'executions' || sameStatsShown(previous, next))) continue;
		if (key === 'logsVersion' && next.executions.detail !== null) continue;
		if (key === 'executions' && next.view === 'services' && onlyRowsChanged(previous, next)) continue;
		return true;
	}
	return false;
}

/**
 * How many history cells (5 s each) a sparkline, and the network totals, may be drawn behind the clock
 * when nothing else on the screen changes: a move is drawn with the next frame that something else
 * causes, or one cell later. The runner's health check (every 30 s) leaves a blip of CPU in the
 * sparkline that moved every 5 s: 12 of an idle dashboard's ~20 frames a minute; its traffic (and the
 * runner's event stream's keep-alives) moved the NET totals' last digit every 5–10 s, out of step with
 * the sparkline. Both now wait on the same cells, so they move together: ~6 frames a minute.
 */
export const sparklineLagCells = 1;

/**
 * The services table would show the same stats: a new sample is most often the same figures at the
 * table's precision (an idle service: 0.0 %, the same megabytes), and redrawing an identical screen
 * every 2 s was most of an idle dashboard's CPU. Its sparklines and totals may wait `sparklineLagCells` for a frame.
 */
function sameStatsShown(previous: DashboardState, next: DashboardState): boolean {
	return next.services.every((s) => {
		const before = previous.resources[s.name];
		const after = next.resources[s.name];
		if (shownFigures(s, before) !== shownFigures(s, after)) return false;
		if (!(totalsMayWait(before, after) || shownTotals(s, before) === shownTotals(s, after))) return false;
		return historyMayWait(before, after) || shownHistory(s, before) === shownHistory(s, after);
	});
}

/** Both sparklines of `after` are at most `sparklineLagCells` cells ahead of those drawn from `before`. */
function historyMayWait(before: ServiceResources | undefined, after: ServiceResources | undefined): boolean {
	if (!before || !after) return false;
	const behind = (drawn: number | undefined, now: number | undefined) => (drawn === undefined ? (now === undefined ? 0 : Number.POSITIVE_INFINITY) : (now ?? drawn) - drawn);
	return behind(before.cpuCell, after.cpuCell) <= sparklineLagCells && behind(before.memoryCell, after.memoryCell) <= sparklineLagCells;
}

/** The sample of `after` is at most `sparklineLagCells` history cells newer than the one drawn from `before`, which drew totals. */
function totalsMayWait(before: ServiceResources | undefined, after: ServiceResources | undefined): boolean {
	if (!before || !after || before.latest.networkRxBytes == null) return false;
	const cell = (r: ServiceResources) => Math.floor(r.latest.timeMs / historyCellMs);
	return cell(after) - cell(before) <= sparklineLagCells;
}

/** Only the executions' rows (and the selection that follows them) changed, with no execution open and no cancellation asked. */
function onlyRowsChanged(previous: DashboardState, next: DashboardState): boolean {
	const a = previous.executions;
	const b = next.executions;
	return b.detail === null && a.detail === null && b.confirmCancel === null && a.confirmCancel === null && a.runner === b.runner;
}
