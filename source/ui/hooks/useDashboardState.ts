import { useCallback, useRef, useSyncExternalStore } from 'react';
import type { DashboardStore } from '../../store/DashboardStore.js';
import { type DashboardState, historyCellMs, type ResourceSample, type ServiceResources } from '../../store/dashboardState.js';
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
 * draws them, every 2 s) and stats that the services table shows as it shows them now (its slow
 * changes wait up to a cell for another frame: `sparklineLagCells`), the logs while an execution's events fill the pane, and executions in the
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
 * How many history cells (5 s each) the services table's slow changes may be drawn behind the clock
 * when nothing else on the screen changes: a sparkline's move, the network totals, and a figure's
 * small change (CPU between values below `smallCpuPercent`, memory by less than 2 %). Such a change is drawn with the
 * next frame that something else causes, or once the sample is two cells past the one on the screen
 * (5–10 s later). Idle, these were most of the frames: the runner's health check (every 30 s) leaves a
 * blip of CPU that moved along the sparkline every 5 s; its traffic and the event stream's keep-alives
 * moved the NET totals' last digit every 5–10 s; memory went to and fro across a megabyte (31M, 32M)
 * and the CPU figure between 0.0 and 0.2 % every few seconds, each out of step with the others.
 */
export const sparklineLagCells = 1;

/**
 * CPU figures below this (% of one core) change without a frame of their own (up to `sparklineLagCells`
 * late). The runner's health check every 30 s is a 2–4 % blip for one sample: two frames each time
 * (up, and down again) on an idle screen; its peak stays in the CPU sparkline, whose cells keep the
 * highest sample. A figure from 5 % on, or leaving or reaching it, is drawn at once.
 */
export const smallCpuPercent = 5;

/**
 * The services table would show the same stats: a new sample is most often the same figures at the
 * table's precision (an idle service: 0.0 %, the same megabytes), and redrawing an identical screen
 * every 2 s was most of an idle dashboard's CPU. Its slow changes may wait `sparklineLagCells` for a frame.
 */
function sameStatsShown(previous: DashboardState, next: DashboardState): boolean {
	return next.services.every((s) => {
		const before = previous.resources[s.name];
		const after = next.resources[s.name];
		const mayWait = before !== undefined && after !== undefined && cellsBehind(before, after) <= sparklineLagCells;
		if (shownFigures(s, before) !== shownFigures(s, after) && !(mayWait && smallChange(before.latest, after.latest))) return false;
		if (shownTotals(s, before) !== shownTotals(s, after) && !(mayWait && before.latest.networkRxBytes != null)) return false;
		return shownHistory(s, before) === shownHistory(s, after) || (mayWait && historyMayWait(before, after));
	});
}

/** How many history cells the sample of `after` is past the one drawn from `before`. */
function cellsBehind(before: ServiceResources, after: ServiceResources): number {
	return Math.floor(after.latest.timeMs / historyCellMs) - Math.floor(before.latest.timeMs / historyCellMs);
}

/** The same PIDs and memory limit, CPU below `smallCpuPercent` in both (or the same), memory within 2 % and on the same side of the limit's 90 % mark. */
function smallChange(a: ResourceSample, b: ResourceSample): boolean {
	if (a.pids !== b.pids || a.memoryLimitBytes !== b.memoryLimitBytes) return false;
	const cpu = Object.is(a.cpuPercent, b.cpuPercent) || (a.cpuPercent < smallCpuPercent && b.cpuPercent < smallCpuPercent);
	const near = (m: ResourceSample) => (m.memoryLimitBytes ? m.memoryBytes / m.memoryLimitBytes > 0.9 : false);
	const memory = Math.abs(a.memoryBytes - b.memoryBytes) <= 0.02 * Math.max(a.memoryBytes, b.memoryBytes) && near(a) === near(b);
	return cpu && memory;
}

/** Both sparklines of `after` are at most `sparklineLagCells` cells ahead of those drawn from `before`. */
function historyMayWait(before: ServiceResources, after: ServiceResources): boolean {
	const behind = (drawn: number | undefined, now: number | undefined) => (drawn === undefined ? (now === undefined ? 0 : Number.POSITIVE_INFINITY) : (now ?? drawn) - drawn);
	return behind(before.cpuCell, after.cpuCell) <= sparklineLagCells && behind(before.memoryCell, after.memoryCell) <= sparklineLagCells;
}

/** Only the executions' rows (and the selection that follows them) changed, with no execution open and no cancellation asked. */
function onlyRowsChanged(previous: DashboardState, next: DashboardState): boolean {
	const a = previous.executions;
	const b = next.executions;
	return b.detail === null && a.detail === null && b.confirmCancel === null && a.confirmCancel === null && a.runner === b.runner;
}
