// `stigmer server start` and the dashboard's start: the start transaction. The image, network and
// container plan are prepared first; then the natives (through the supervisor) and the agent-runner
// container come up in order and are waited for. On a failure or Ctrl-C, what this start began is rolled
// back, so nothing is left half-started. stop.ts, status.ts and restart.ts are the other verbs.
import { loadConfig } from '../config/loadConfig.js';
import type { StigmerConfig } from '../config/types.js';
import { agentRunnerService, defaultTimeouts, exitCodes, labels } from '../contract.js';
import {
	type ContainerInspect,
	type ContainerPlan,
	createContainer,
	currentContainer,
	engineHasStartInterval,
	findContainers,
	handOverMountedPaths,
	inspectContainer,
	planContainer,
	removeContainer,
	startContainer,
	stopContainer,
} from '../agentRunner/ContainerService.js';
import { containerSource, ensureImage, outdatedReason } from '../agentRunner/image.js';
import { openApiForward, prepareNetwork, releaseNetwork } from '../agentRunner/network.js';
import { waitContainerReady } from '../agentRunner/readiness.js';
import { deliverSecrets, ensureRemoteVolumes } from '../agentRunner/volumes.js';
import type { DockerApi } from '../engine/DockerApi.js';
import { engineIsRemote } from '../engine/locality.js';
import { TimeoutError, UserError } from '../errors.js';
import { ensureApiToken } from '../home/apiToken.js';
import { acquireHomeLock } from '../home/HomeLock.js';
import { clearOomRecord } from '../home/OomRecord.js';
import type { StigmerHome } from '../home/StigmerHome.js';
import { serviceLogTail } from '../logs/logTail.js';
import { fileSystemOf, formatBytes } from '../platform/fileSystem.js';
import { type StackStatus, isActive } from '../serviceStatus.js';
import { ensureSupervisor, nativeState, request, shutdownSupervisor, supervisorLoss, supervisorPid } from '../supervisor/SupervisorClient.js';
import { probeTcp } from '../supervisor/readiness.js';
import { type StackEvent, type StartOptions, checkAborted, connectEngine } from './options.js';
import { selectServices } from './selection.js';
import { stackStatus } from './status.js';

/** Brings the selected services up in order (natives, then agent-runner) and waits until each is ready. */
export async function startStack(home: StigmerHome, options: StartOptions = {}): Promise<StackStatus> {
	home.ensureLayout();
	ensureRoom(home);
	const config = options.config ?? loadConfig(home);
	const selected = selectServices(config, options.services);
	const wantContainer = selected.includes(agentRunnerService);
	const natives = config.services.filter((s) => selected.includes(s.name));
	const timeoutSeconds = options.timeoutSeconds ?? defaultTimeouts.startSeconds;
	const wait = options.wait ?? true;
	const emit = options.onEvent ?? (() => {});
	const loss = supervisorLoss(home);
	if (loss) emit({ service: 'supervisor', phase: 'supervisor-lost', text: loss.replace(/ \u2014 run .*$/, '') }); // \u2014, not the dash itself: see dashboardBundle.test.ts
	const apiToken = ensureApiToken(home);

	// The engine first: when it is unreachable nothing is started (exit 3).
	const api = wantContainer ? await connectEngine(options) : null;
	try {
		const remote = api ? engineIsRemote(api.endpoint) : false;
		const run: StartRun = { home, config, options, timeoutSeconds, wait, emit, remote, apiToken, startedNatives: [], startedContainer: null, forwardOpened: null, apiForwardOpened: null };
		const lock = await acquireHomeLock(home, { what: 'starting', signal: options.signal });
		try {
			const container = api ? await prepareContainer(api, run) : null;
			if (natives.length > 0) await startNatives(run, natives);
			checkAborted(options.signal);
			if (api && container) await bringUpContainer(api, run, container);
			const status = await stackStatus(home, { api: api ?? undefined, config });
			// a Ctrl-C during the last steps, after their own checks, still undoes the start (it said it would)
			checkAborted(options.signal);
			return status;
		} catch (error) {
			// Ctrl-C or a failure: undo what this start began, so nothing is left half-started.
			await run.forwardOpened?.catch(() => {}); // settled first, or it could open after the rollback
			await run.apiForwardOpened?.catch(() => {});
			if (options.signal?.aborted || !(error instanceof TimeoutError)) {
				await rollback(home, api, run.startedContainer, run.startedNatives).catch(() => {});
			}
			if (options.signal?.aborted) throw new UserError('interrupted: stopped what this start had begun', exitCodes.interrupted);
			throw error;
		} finally {
			lock.release();
		}
	} finally {
		if (!options.api) api?.close();
	}
}

/** Below this much free space on the home's file system, start refuses: state and logs could not be written. */
const minimumFreeBytes = 1024 * 1024;

/** A full disk under the home is said as such before anything starts (stop still works there). */
function ensureRoom(home: StigmerHome): void {
	const fs = fileSystemOf(home.dir);
	if (fs.freeBytes === null || fs.freeBytes >= minimumFreeBytes) return;
	throw new UserError(
		`no space left on ${fs.mountPoint} (${formatBytes(fs.freeBytes)} free${fs.totalBytes ? ` of ${formatBytes(fs.totalBytes)}` : ''}): the stack's state and logs under ${home.dir} cannot be written`,
		1,
		`free some space there (\`stigmer doctor\` shows it; old logs in ${home.logsDir} can go), then start again; \`stigmer server stop\` and \`status\` work meanwhile`,
	);
}

/** One `startStack`: its settings, and what it has started so far (undone when it fails). */
interface StartRun {
	home: StigmerHome;
	config: StigmerConfig;
	options: StartOptions;
	timeoutSeconds: number;
	wait: boolean;
	emit: (event: StackEvent) => void;
	/** the engine is remote (engine/locality.ts): volumes, secrets copied in, the API through the supervisor */
	remote: boolean;
	apiToken: string;
	startedNatives: string[];
	startedContainer: string | null;
	/** the supervisor's LLM forward for the container, opening while the rest starts */
	forwardOpened: Promise<unknown> | null;
	/** remote engines: the supervisor's forward to the API, opening while the rest starts */
	apiForwardOpened: Promise<unknown> | null;
}

interface PreparedContainer {
	plan: ContainerPlan;
	/** the home's container before this start (reused when its configuration hash matches) */
	existing: ContainerInspect | null;
}

/** Before anything starts: the image (built when missing or stale), the container's plan, and a free port. */
async function prepareContainer(api: DockerApi, run: StartRun): Promise<PreparedContainer> {
	const { home, config, options } = run;
	// the image and the network (with the supervisor's LLM forward) are independent: side by side,
	// and both settled before anything else (a failure's rollback then sees all they made)
	// (and on a remote engine the home's volumes)
	const [image, network, volumes] = await Promise.allSettled([
		ensureImage(api, config, {
			build: options.build,
			signal: options.signal,
			onProgress: (progress) => options.onEvent?.({ service: agentRunnerService, phase: 'build', progress }),
			onPull: (text) => options.onEvent?.({ service: agentRunnerService, phase: 'pull', text }),
		}),
		prepareNetwork(api, home, config.agentRunner),
		run.remote ? ensureRemoteVolumes(api, home) : Promise.resolve([]),
	]);
	if (image.status === 'rejected') throw image.reason;
	if (network.status === 'rejected') throw network.reason;
	if (volumes.status === 'rejected') throw volumes.reason;
	run.forwardOpened = network.value.forward;
	checkAborted(options.signal);
	const startInterval = engineHasStartInterval(api.apiVersion, network.value.choice.podman ?? false);
	const plan = planContainer(home, config.agentRunner, image.value.id, network.value, { remote: run.remote, apiToken: run.apiToken, startInterval, imageSource: image.value.source });
	if (run.remote) {
		// the API's port on this machine is the supervisor's forward (it says when another program has it)
		const opening = openApiForward(api, home, config.agentRunner);
		opening.catch(() => {}); // awaited before the container is waited for
		run.apiForwardOpened = opening;
	}
	const existing = await currentContainer(api, home);
	// A running container of ours holds the port itself (it is reused, or replaced below); so may the API
	// forward of this home's remote-mode stack (the engine changed under it): closed, then looked at again.
	if (!run.remote && (await probeTcp(config.agentRunner.port)) && !(await closedOwnApiForward(home, config.agentRunner.port)) && !existing?.State.Running) {
		throw new UserError(
			`port ${config.agentRunner.port} on 127.0.0.1 is taken by another program`,
			1,
			`stop it (\`stigmer doctor\` shows which process holds it), or set agentRunner.port in ${home.configFile}`,
		);
	}
	return { plan, existing };
}

/** Whether the home's supervisor held `port` with an API forward, now closed (a stack that was remote). */
async function closedOwnApiForward(home: StigmerHome, port: number): Promise<boolean> {
	if (supervisorPid(home) === null) return false;
	const status = await request(home, { cmd: 'status' }, { timeoutMs: 5000 }).catch(() => null);
	if (!status?.ok || status.apiForward?.port !== port || status.apiForward.mode !== 'listening') return false;
	await request(home, { cmd: 'apiUnforward' }, { timeoutMs: 10_000 });
	return !(await probeTcp(port));
}

/** The native services, through the supervisor (started when needed), waiting for readiness when asked. */
async function startNatives(run: StartRun, natives: StigmerConfig['services']): Promise<void> {
	const { home, config, wait, timeoutSeconds, emit } = run;
	await ensureSupervisor(home);
	const before = new Map((await nativeState(home)).services.map((s) => [s.name, s.state]));
	const response = await request(home, { cmd: 'start', services: natives.map((s) => s.name), configs: config.services, wait, timeout: timeoutSeconds }, { timeoutMs: (timeoutSeconds + 30) * 1000 });
	for (const s of response.services ?? []) {
		if (s.state === 'not-installed') emit({ service: s.name, phase: 'not-installed', text: s.lastError });
		else if (before.get(s.name) !== 'running' && natives.some((n) => n.name === s.name)) run.startedNatives.push(s.name);
	}
	if (!response.ok) {
		const reason = response.error;
		if (response.timedOut) {
			throw new TimeoutError(`${response.service ?? 'a native service'} did not become ready within ${timeoutSeconds} s: ${reason}`, await nativeLogHint(home, response.service));
		}
		throw new UserError(`${response.service ?? 'a native service'} failed to start: ${reason}`, 1, await nativeLogHint(home, response.service));
	}
	for (const s of response.services) if (s.state === 'running') emit({ service: s.name, phase: 'ready' });
}

/** The agent-runner container: reused, started, or (re)created, stale ones removed; then ready. */
async function bringUpContainer(api: DockerApi, run: StartRun, { plan, existing }: PreparedContainer): Promise<void> {
	const { home, emit } = run;
	clearOomRecord(home); // the user started it: an earlier OOM kill is no longer news
	const all = await findContainers(api, home);
	let id: string | null = null;
	for (const c of all) {
		if (c.Labels[labels.configHash] === plan.hash && id === null && c.Id === existing?.Id) id = c.Id;
		else await removeContainer(api, c.Id); // stale: older version, changed config, or a duplicate
	}
	if (id === null) {
		const byName = await inspectContainer(api, plan.name);
		if (byName) await removeContainer(api, byName.Id); // a leftover without our labels
		const outdated = existing ? outdatedReason(containerSource(existing.Config.Labels), plan.imageSource) : null;
		emit({ service: agentRunnerService, phase: existing ? 'recreate' : 'create', ...(outdated ? { text: outdated } : {}) });
		handOverMountedPaths(plan);
		id = await createContainer(api, plan);
		run.startedContainer = id;
		// remote: the token goes into the created container's secrets volume (a new token is a new plan)
		if (run.remote) await deliverSecrets(api, id, run.config.agentRunner, run.apiToken);
		await startContainer(api, id);
	} else if (!existing!.State.Running) {
		emit({ service: agentRunnerService, phase: 'start' });
		handOverMountedPaths(plan);
		run.startedContainer = id;
		// remote: again (one request), in case a start interrupted before it left the volume without them
		if (run.remote) await deliverSecrets(api, id, run.config.agentRunner, run.apiToken);
		await startContainer(api, id);
	} else {
		emit({ service: agentRunnerService, phase: 'reuse' });
	}
	await run.forwardOpened; // the container's LLM path, opened by the supervisor meanwhile
	await run.apiForwardOpened; // remote: the CLI's path to the API, likewise
	if (run.wait) {
		emit({ service: agentRunnerService, phase: 'wait' });
		await waitContainerReady(api, home, id, plan.endpoint, run.timeoutSeconds, run.options.signal);
		emit({ service: agentRunnerService, phase: 'ready' });
	}
}

async function nativeLogHint(home: StigmerHome, service: string | undefined): Promise<string> {
	if (!service) return `see ${home.logsDir}`;
	const tail = await serviceLogTail(null, home, service, 10);
	return `last lines of ${home.logFile(service)}:\n${tail || '(empty)'}`;
}

async function rollback(home: StigmerHome, api: DockerApi | null, container: string | null, natives: string[]): Promise<void> {
	if (api && container) {
		await stopContainer(api, container, 5);
		await removeContainer(api, container);
	}
	// the network and forward this start may have opened, unless a container of ours still uses them
	const containerLeft = api ? (await findContainers(api, home)).length > 0 : true;
	if (!containerLeft) await releaseNetwork(api, home);
	if (natives.length > 0 && supervisorPid(home) !== null) {
		await request(home, { cmd: 'stop', services: natives, timeout: 5 }).catch(() => {});
	}
	// a supervisor started only for the forward goes too, once nothing of the stack runs
	const nativeUp = (await nativeState(home)).services.some((s) => isActive(s.state));
	if (!containerLeft && !nativeUp && supervisorPid(home) !== null) await shutdownSupervisor(home, 5);
}
