// Runs the lifecycle actions that the keys ask for and reports them through the store: one action per
// service at a time, its progress in the row, its failure in the status line. Nothing thrown here
// reaches React.
import { engineRefusalText } from '../engine/engineRefusals.js';
import { errorMessage } from '../errors.js';
import type { DashboardStore } from '../store/DashboardStore.js';
import type { ServiceActionKind } from '../store/dashboardState.js';
import type { DashboardState } from '../store/dashboardState.js';
import type { DashboardBackend, ShellHandle } from './DashboardBackend.js';

export type LifecycleAction = ServiceActionKind;

export interface ServiceCommands {
	run(kind: LifecycleAction, service: string): Promise<void>;
	/**
	 * Hands the terminal to a shell in the container: waits for it to be running (a start or restart in
	 * progress), opens the exec, then attaches it inside `suspend` (the UI passes Ink's suspendTerminal).
	 * The store's `handover` holds the keys typed meanwhile; clearing it (Esc) cancels.
	 */
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
			if (store.getSnapshot().handover) return;
			const first = shellReadiness(store.getSnapshot(), service, false);
			if ('error' in first) {
				store.dispatch({ type: 'status/set', status: { kind: 'error', text: `shell: ${first.error}` } });
				return;
			}
			// from here until the shell ends, keys are the shell's (keyDispatch reads the handover)
			store.dispatch({ type: 'handover/begin', service, waitingFor: first.ready ? null : first.waitingFor });
			let outcome: 'cancelled' | 'attached' | { error: string } = 'cancelled';
			let exitCode: number | null = null;
			let ended = false;
			try {
				if (!first.ready) {
					const waited = await waitUntilReady(store, service);
					if (waited !== 'ready') {
						if (waited !== 'cancelled') outcome = waited;
						return;
					}
				}
				store.dispatch({ type: 'handover/phase', phase: 'opening', waitingFor: null });
				let shell: ShellHandle;
				try {
					shell = await backend.openShell(service);
				} catch (error) {
					if (store.getSnapshot().handover) outcome = { error: engineRefusalText(error) ?? errorMessage(error) };
					return;
				}
				if (!store.getSnapshot().handover) {
					shell.close();
					return;
				}
				store.dispatch({ type: 'handover/phase', phase: 'attached' });
				outcome = 'attached';
				let exited: Promise<number> | null = null;
				// Ink calls this at once (no tick between its last key and the shell's raw mode): the keys kept so far go first
				await suspend(async () => {
					try {
						exited = (await shell.attach(store.getSnapshot().handover?.typed ?? '')).exitCode;
					} catch (error) {
						outcome = { error: engineRefusalText(error) ?? errorMessage(error) };
					}
				});
				// the dashboard is back on the screen and reads keys again (an `e` may start the next handover
				// while this one waits for its exit code: the finally below must not end that one)
				store.dispatch({ type: 'handover/end' });
				ended = true;
				if (exited) {
					try {
						exitCode = await exited;
					} catch (error) {
						outcome = { error: engineRefusalText(error) ?? errorMessage(error) };
					}
				}
			} finally {
				if (!ended) store.dispatch({ type: 'handover/end' });
				if (outcome === 'cancelled') store.dispatch({ type: 'status/set', status: { kind: 'info', text: `shell in ${service} cancelled` } });
				else if (outcome === 'attached') store.dispatch({ type: 'status/set', status: { kind: 'info', text: `shell in ${service} exited with ${exitCode}` } });
				else store.dispatch({ type: 'status/set', status: { kind: 'error', text: `shell: ${outcome.error}` } });
			}
		},
	};
}

export type ShellReadiness = { ready: true } | { ready: false; waitingFor: string } | { error: string };

/**
 * Whether a shell can open in `service` now, must wait, or cannot. `waited`: an action was waited for;
 * once it ends the exec itself tells whether the container runs (the row may lag behind the engine).
 */
export function shellReadiness(state: DashboardState, service: string, waited: boolean): ShellReadiness {
	const row = state.services.find((s) => s.name === service);
	if (row?.kind !== 'container') return { error: 'no container service' };
	const action = state.actions[service];
	if (action?.kind === 'stop') return { error: `${service} is stopping (press s to start it)` };
	if (action) return { ready: false, waitingFor: `${service} to ${action.kind}` };
	if (waited || row.state === 'running') return { ready: true };
	if (row.state === 'starting' || row.state === 'restarting') return { ready: false, waitingFor: `${service} to start` };
	return { error: `${service} is not running (press s to start it)` };
}

/** Resolves once the shell can open, the user cancelled (Esc: the handover is gone), or it cannot. */
function waitUntilReady(store: DashboardStore, service: string): Promise<'ready' | 'cancelled' | { error: string }> {
	return new Promise((resolve) => {
		let unsubscribe: () => void = () => undefined;
		let settled = false;
		let sawAction = false;
		const check = () => {
			if (settled) return;
			const state = store.getSnapshot();
			if (!state.handover) return settle('cancelled');
			if (state.actions[service]) sawAction = true;
			const readiness = shellReadiness(state, service, sawAction);
			if ('error' in readiness) return settle(readiness);
			if (readiness.ready) return settle('ready');
			store.dispatch({ type: 'handover/phase', phase: 'waiting', waitingFor: readiness.waitingFor });
		};
		const settle = (ready: 'ready' | 'cancelled' | { error: string }) => {
			settled = true;
			unsubscribe();
			resolve(ready);
		};
		unsubscribe = store.subscribe(() => queueMicrotask(check));
		check();
	});
}
