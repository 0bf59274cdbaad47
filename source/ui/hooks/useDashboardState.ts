import { useSyncExternalStore } from 'react';
import type { DashboardStore } from '../../store/DashboardStore.js';
import type { DashboardState } from '../../store/dashboardState.js';

export function useDashboardState(store: DashboardStore): DashboardState {
	return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}
