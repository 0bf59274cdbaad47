// Runs the lifecycle actions that the keys ask for and reports them through the store: one action per
// service at a time, its progress in the row, its failure in the status line. Nothing thrown here
// reaches React.
import { engineRefusalText } from '../engine/engineRefusals.js';
import { errorMessage } from '../errors.js';
import type { DashboardStore } from '../store/DashboardStore.js';
import type { ServiceActionKind } from '../store/dashboardState.js';
import type { DashboardBackend } from './DashboardBackend.js';

export type LifecycleAction = Exclude<ServiceActionKind, 'shell'>;

export interface ServiceCommands {
	run(kind: LifecycleAction, service: string): Promise<void>;
	/** Runs `shell` while the terminal is handed over (the UI passes Ink's suspendTerminal). */
	shell(service: string, suspend: (inside: () => Promise<void>) => Promise<void>): Promise<void>;
}

export function serviceCommands(store: DashboardStore, backend: DashboardBackend): ServiceCommands {
	return {
		async run(kind, service) {
			if (store.getSnapshot().actions[service]) {
				store.dispatch({ type: 'status/set', status: { kind: 'error', text: `${service}: an action is already running` } });
				return;
			}
			store.dispatch({ type: 'action/started', service, kind });
			const onProgress = (progress: string) => store.dispatch({ type: 'action/progress', service, progress });
			try {
				if (kind === 'start') await backend.startService(service, { onProgress });
				else if (kind === 'stop') await backend.stopService(service, { onProgress });
				else await backend.restartService(service, { onProgress });
				store.dispatch({ type: 'action/finished', service });
			} catch (error) {
				store.dispatch({ type: 'action/finished', service, error: engineRefusalText(error) ?? errorMessage(error) });
			}
		},
		async shell(service, suspend) {
			const state = store.getSnapshot();
			const row = state.services.find((s) => s.name === service);
			if (row?.kind !== 'container') {
				store.dispatch({ type: 'status/set', status: { kind: 'error', text: 'shell: no container service' } });
				return;
			}
			if (row.state !== 'running') {
				store.dispatch({ type: 'status/set', status: { kind: 'error', text: `shell: ${service} is not running (press s to start it)` } });
				return;
			}
			let exitCode: number | null = null;
			let failure: unknown = null;
			store.dispatch({ type: 'suspended/set', suspended: true });
			try {
				await suspend(async () => {
					try {
						exitCode = await backend.openShell(service);
					} catch (error) {
						failure = error;
					}
				});
			} finally {
				store.dispatch({ type: 'suspended/set', suspended: false });
			}
			if (failure) store.dispatch({ type: 'status/set', status: { kind: 'error', text: `shell: ${errorMessage(failure)}` } });
			else store.dispatch({ type: 'status/set', status: { kind: 'info', text: `shell in ${service} exited with ${exitCode}` } });
		},
	};
}
