import { useCallback, useRef, useSyncExternalStore } from 'react';
import type { DashboardStore } from '../../store/DashboardStore.js';
import type { DashboardState } from '../../store/dashboardState.js';
import { shownStats } from '../components/ServicesTable.js';

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
 * draws them, every 2 s) and stats that the services table shows as it shows them now, the logs while an execution's events fill the pane, and executions in the
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
 * The services table would show the same stats: a new sample is most often the same figures at the
 * table's precision (an idle service: 0.0 %, the same megabytes), and redrawing an identical screen
 * every 2 s was most of an idle dashboard's CPU.
 */
function sameStatsShown(previous: DashboardState, next: DashboardState): boolean {
	return next.services.every((s) => shownStats(s, previous.resources[s.name]) === shownStats(s, next.resources[s.name]));
}

/** Only the executions' rows (and the selection that follows them) changed, with no execution open and no cancellation asked. */
function onlyRowsChanged(previous: DashboardState, next: DashboardState): boolean {
	const a = previous.executions;
	const b = next.executions;
	return b.detail === null && a.detail === null && b.confirmCancel === null && a.confirmCancel === null && a.runner === b.runner;
}
