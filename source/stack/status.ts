// `stigmer server status` and the dashboard's first rows: the truth about every service, from the engine
// and the supervisor's state file (never from what a start intended); the natives' rows and the LLM
// forward's line from what the supervisor reports (the dashboard builds its rows with them too).
import { containerStatus, currentContainer } from '../agentRunner/ContainerService.js';
import { listRemoteVolumes } from '../agentRunner/volumes.js';
import { withHealthFallback } from '../agentRunner/healthFallback.js';
import { imageSourceStatus } from '../agentRunner/image.js';
import { refreshOomRecord, withOom } from '../agentRunner/oomStatus.js';
import type { StigmerConfig } from '../config/types.js';
import { DockerApi } from '../engine/DockerApi.js';
import { endpointUrl, resolveEndpoint } from '../engine/endpoint.js';
import { engineIsRemote } from '../engine/locality.js';
import { errorMessage } from '../errors.js';
import type { StigmerHome } from '../home/StigmerHome.js';
import { type ServiceStatus, type StackStatus, isActive } from '../serviceStatus.js';
import type { LlmForwardStatus } from '../supervisor/LlmForward.js';
import type { NativeStatus } from '../supervisor/protocol.js';
import { nativeState } from '../supervisor/SupervisorClient.js';
import { resolveExecutable } from '../supervisor/resolveExecutable.js';
import { configOrRunning } from './selection.js';

function configuredNativeRow(home: StigmerHome, name: string, config: StigmerConfig): ServiceStatus {
	const service = config.services.find((s) => s.name === name)!;
	const found = resolveExecutable(service.command[0]!, { cwd: service.cwd ?? home.dir, binDir: home.binDir });
	if (!found && service.optional)
		return { name, kind: 'native', state: 'not-installed', health: null, restarts: 0, exitCode: null, message: `${service.command[0]} not found on PATH or in ${home.binDir}` };
	return { name, kind: 'native', state: 'stopped', health: null, restarts: 0, exitCode: null };
}

/**
 * Two turns of the event loop: a poll phase in which connections opened just now report it (their
 * requests are then written), and the check phase after it. One setImmediate called from a poll-phase
 * callback (an answer's) runs before the next poll phase, with the request still unwritten.
 */
const requestsSent = () => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));

/** The truth about every service, read from the engine and the supervisor's state file. */
export async function stackStatus(home: StigmerHome, options: { api?: DockerApi; config?: StigmerConfig } = {}): Promise<StackStatus> {
	// The engine's questions need no config (the container is found by the home's labels), so they go
	// first: the negotiation's request is on the wire (requestsSent) before the state file
	// is read (and, with no live supervisor, the process table searched), the container is found, and its
	// OOM events (Podman's take 20-40 ms to answer) are asked while config.yaml is read and parsed. Before,
	// every request waited for the parse, and the events' answer was waited for after it.
	const connecting = options.api ? Promise.resolve(options.api) : DockerApi.connect(process.env, 2000);
	const found = connecting.then((api) => Promise.all([currentContainer(api, home), engineIsRemote(api.endpoint) ? listRemoteVolumes(api, home) : Promise.resolve(null)]));
	const oomRead = Promise.all([connecting, found]).then(([api, [inspect]]) => refreshOomRecord(api, home, inspect));
	for (const p of [connecting, found, oomRead]) p.catch(() => {}); // awaited below
	await requestsSent();
	const nativeStateRead = nativeState(home);
	nativeStateRead.catch(() => {}); // awaited below, after the engine's answers
	await found.catch(() => null); // an engine that does not answer fails `connecting`: awaited below
	await requestsSent(); // the events' request on the wire
	const { config, invalid } = options.config
		? { config: options.config, invalid: null }
		: await configOrRunning(home).catch(async (error: unknown) => {
				if (!options.api) (await connecting.catch(() => null))?.close();
				throw error;
			});
	const endpoint = `http://127.0.0.1:${config.agentRunner.port}`;
	let api: DockerApi | null = null;
	let engineError: string | undefined;
	try {
		api = await connecting;
	} catch (error) {
		engineError = errorMessage(error);
	}
	let containerRow: ServiceStatus;
	try {
		if (api) {
			const [inspect, volumes] = await found;
			const [row, oom] = await Promise.all([withHealthFallback(containerStatus(inspect, endpoint, inspect?.Config.Image ?? config.agentRunner.image), inspect), oomRead]);
			containerRow = withOom(row, oom.record);
			containerRow.imageSource = imageSourceStatus(inspect ? inspect.Config.Labels : undefined, config.agentRunner.image);
			if (volumes) containerRow.volumes = volumes.filter((v) => v.holds !== 'secrets').map((v) => ({ name: v.name, holds: v.holds }));
		} else {
			containerRow = { ...containerStatus(null, endpoint, config.agentRunner.image), state: 'unknown', message: 'container engine unreachable' };
		}
	} finally {
		if (api && !options.api) api.close();
	}
	const state = await nativeStateRead;
	const byName = new Map(state.services.map((s) => [s.name, s]));
	const natives = config.services.map((s) => {
		const known = byName.get(s.name);
		return known ? nativeRow(known) : configuredNativeRow(home, s.name, config);
	});
	const status: StackStatus = {
		engine: api?.info
			? { reachable: true, endpoint: api.info.endpoint, version: api.info.version }
			: { reachable: false, endpoint: safeEndpointUrl(), version: null, ...(engineError ? { error: engineError } : {}) },
		services: [containerRow, ...natives],
	};
	status.supervisor = { pid: state.supervisorPid };
	const forward = llmForwardRow(state.forward, state.supervisorPid !== null, isActive(containerRow.state));
	if (forward) status.llmForward = forward;
	if (invalid) {
		status.configError = invalid.oneLine();
		// the port comes from the container itself: the configured one cannot be read
		if (containerRow.state !== 'unknown' && !containerRow.id) delete containerRow.endpoint;
	}
	return status;
}

function safeEndpointUrl(): string {
	try {
		return endpointUrl(resolveEndpoint());
	} catch {
		return process.env.DOCKER_HOST ?? '';
	}
}

/** The status's llmForward from what the supervisor reports (or, dead, what it last recorded). */
export function llmForwardRow(forward: LlmForwardStatus | null, supervisorAlive: boolean, containerUp: boolean): StackStatus['llmForward'] {
	if (!forward) return undefined;
	const listen = `${forward.listenHost}:${forward.boundPort}`;
	const target = `${forward.targetHost}:${forward.targetPort}`;
	if (!supervisorAlive) return containerUp ? { state: 'down', listen, target, error: 'the supervisor that runs it is not running' } : undefined;
	return { state: forward.mode, listen, target, ...(forward.error ? { error: forward.error } : {}) };
}

/** The status row of a native service, from what the supervisor reports (status and the dashboard alike). */
export function nativeRow(s: NativeStatus): ServiceStatus {
	const row: ServiceStatus = { name: s.name, kind: 'native', state: s.state, health: null, restarts: s.restarts, exitCode: s.exitCode };
	if (s.pid !== undefined) row.pid = s.pid;
	if (s.startedAt) row.startedAt = s.startedAt;
	if (s.lastError) row.message = s.lastError;
	return row;
}
