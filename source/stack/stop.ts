// `stigmer server stop` and the dashboard's stop: the container (and its network, and on a remote engine
// its leftover secrets volumes, or with --volumes all the home's volumes) and the natives, side by side.
import { agentRunnerService, defaultTimeouts } from '../contract.js';
import { findContainers, removeContainer, stopContainer } from '../agentRunner/ContainerService.js';
import { listRemoteVolumes } from '../agentRunner/volumes.js';
import { releaseNetwork } from '../agentRunner/network.js';
import { type DockerApi, EngineUnreachableError, engineMessage } from '../engine/DockerApi.js';
import { engineIsRemote } from '../engine/locality.js';
import { UsageError, UserError } from '../errors.js';
import { acquireHomeLock } from '../home/HomeLock.js';
import type { StigmerHome } from '../home/StigmerHome.js';
import { nativeState, request, shutdownSupervisor, supervisorPid } from '../supervisor/SupervisorClient.js';
import { type StackEvent, type StackOptions, connectEngine } from './options.js';
import { configOrRunning, selectServices } from './selection.js';
import { isActive } from '../serviceStatus.js';

export interface StopOptions extends StackOptions {
	services?: string[];
	timeoutSeconds?: number;
	/**
	 * Also remove the home's named volumes (a remote engine's workspace and data), as `docker compose down
	 * --volumes` does: their content is lost. Only when agent-runner is among the services stopped.
	 */
	volumes?: boolean;
}

/** Stops all or the named services: SIGTERM / docker stop, then kill after the timeout. */
export async function stopStack(home: StigmerHome, options: StopOptions = {}): Promise<void> {
	// an invalid config.yaml does not keep the user from stopping what runs: the services are then the
	// supervisor's (its state) and the container (the engine's labels), all of which belong to this home
	const { config, invalid } = options.config ? { config: options.config, invalid: null } : await configOrRunning(home);
	if (invalid) options.onEvent?.({ service: 'config', phase: 'config-invalid', text: invalid.oneLine() });
	const selected = selectServices(config, options.services);
	const all = !options.services || options.services.length === 0;
	const timeout = options.timeoutSeconds ?? defaultTimeouts.stopSeconds;
	const emit = options.onEvent ?? (() => {});
	if (options.volumes && !selected.includes(agentRunnerService)) throw new UsageError(`--volumes removes ${agentRunnerService}'s volumes: stop ${agentRunnerService} too (or name no service)`);
	home.ensureLayout();
	const lock = await acquireHomeLock(home, { what: 'stopping', signal: options.signal });
	try {
		const tasks: Promise<void>[] = [];
		if (selected.includes(agentRunnerService)) {
			tasks.push(
				(async () => {
					let api: DockerApi;
					try {
						api = await connectEngine(options);
					} catch (error) {
						// Nothing of ours can run in an engine that is down; natives are still stopped.
						if (error instanceof EngineUnreachableError && !options.volumes) return releaseNetwork(null, home);
						throw error;
					}
					try {
						for (const c of await findContainers(api, home)) {
							emit({ service: agentRunnerService, phase: 'stop' });
							await stopContainer(api, c.Id, timeout);
							await removeContainer(api, c.Id);
							emit({ service: agentRunnerService, phase: 'stopped' });
						}
						await releaseNetwork(api, home);
						if (options.volumes || engineIsRemote(api.endpoint)) await removeHomeVolumes(api, home, options.volumes ? emit : null);
					} finally {
						if (!options.api) api.close();
					}
				})(),
			);
		}
		const natives = config.services.map((s) => s.name).filter((n) => selected.includes(n));
		if (all) {
			const up = (await nativeState(home)).services.filter((s) => isActive(s.state));
			for (const n of up) emit({ service: n.name, phase: 'stop' });
			tasks.push(
				shutdownSupervisor(home, timeout).then(() => {
					for (const n of up) emit({ service: n.name, phase: 'stopped' });
				}),
			);
		} else if (natives.length > 0 && supervisorPid(home) !== null) {
			tasks.push(
				request(home, { cmd: 'stop', services: natives, timeout }, { timeoutMs: (timeout + 10) * 1000 }).then((r) => {
					if (!r.ok) throw new UserError(`stopping ${natives.join(', ')} failed: ${r.error}`);
					for (const n of natives) emit({ service: n, phase: 'stopped' });
				}),
			);
		}
		const results = await Promise.allSettled(tasks);
		const failed = results.find((r) => r.status === 'rejected');
		if (failed) throw (failed as PromiseRejectedResult).reason;
	} finally {
		lock.release();
	}
}

/**
 * Once the home's containers are gone: the secrets volumes a container removed without its volumes left
 * behind (`docker rm -f` without -v), and with `emit` (`server stop --volumes`) the named volumes too.
 */
async function removeHomeVolumes(api: DockerApi, home: StigmerHome, emit: ((event: StackEvent) => void) | null): Promise<void> {
	for (const volume of await listRemoteVolumes(api, home)) {
		if (!emit && volume.holds !== 'secrets') continue;
		try {
			await api.removeVolume(volume.name);
		} catch (error) {
			throw new UserError(`cannot remove the volume ${volume.name}: ${engineMessage(error)}`, 1, `a container outside stigmer may use it: \`docker ps -a --filter volume=${volume.name}\``);
		}
		if (volume.holds !== 'secrets') emit?.({ service: agentRunnerService, phase: 'volume-removed', text: volume.name });
	}
}
