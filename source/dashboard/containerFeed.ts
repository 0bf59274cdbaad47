// The dashboard's agent-runner row, live: the engine's /events for this home's containers, each
// re-inspected (one inspection at a time, one more after it when events came meanwhile), the health
// fallback's rechecks while the engine says `starting`, OOM kills (in the row and once in the log pane),
// ONE /stats stream while the container runs, and the engine banner as the engine goes and comes back.
import { containerStatus, currentContainer } from '../agentRunner/ContainerService.js';
import { engineRunsNoHealthChecks, healthRecheckMs, withHealthFallback } from '../agentRunner/healthFallback.js';
import { dieWindowMs, engineSendsNoOom } from '../agentRunner/oomEvents.js';
import { oomNote, refreshOomRecord, withOom } from '../agentRunner/oomStatus.js';
import type { StigmerConfig } from '../config/types.js';
import { agentRunnerService } from '../contract.js';
import { type ContainerStats, followContainerStats } from '../engine/containerStats.js';
import type { DockerApi } from '../engine/DockerApi.js';
import { subscribeEngineEvents } from '../engine/dockerEvents.js';
import { engineIsRemote } from '../engine/locality.js';
import type { StigmerHome } from '../home/StigmerHome.js';
import { normalizeTime } from '../logs/LogLine.js';
import type { ServiceStatus } from '../serviceStatus.js';
import { type CgroupOomWatch, watchCgroupOomKills } from '../platform/cgroupOomKills.js';
import type { DashboardSink } from '../store/DashboardStore.js';

/** The container row from /events (re-inspected on each), its stats stream, and the engine banner. */
export async function followContainer(api: DockerApi, home: StigmerHome, config: StigmerConfig, sink: DashboardSink, signal: AbortSignal): Promise<void> {
	const endpoint = `http://127.0.0.1:${config.agentRunner.port}`;
	let stats: { id: string; controller: AbortController } | null = null;
	let inspecting: Promise<void> | null = null;
	let again = false;

	const stopStats = () => {
		stats?.controller.abort();
		stats = null;
	};
	const startStats = (id: string) => {
		if (stats?.id === id) return;
		stopStats();
		const controller = new AbortController();
		stats = { id, controller };
		const onStats = (s: ContainerStats) => {
			sink.recordSample(agentRunnerService, s);
			if (cgroupWatch && !cgroupWatch.watch.notified) cgroupWatch.watch.check();
		};
		// ends with the dashboard or with this stream, and leaves no listener on the dashboard's signal
		followContainerStats(api, id, onStats, AbortSignal.any([signal, controller.signal]))
			.catch(() => {})
			.finally(() => {
				if (stats?.controller === controller) stats = null;
			});
	};
	let healthTimer: NodeJS.Timeout | null = null;
	signal.addEventListener('abort', () => healthTimer && clearTimeout(healthTimer), { once: true });
	let shown: { found: Awaited<ReturnType<typeof currentContainer>>; row: ServiceStatus } | null = null;
	// no health_status event will come from an engine that runs no health checks: look again
	const scheduleHealth = (found: Awaited<ReturnType<typeof currentContainer>>) => {
		if (healthTimer) clearTimeout(healthTimer);
		const recheckMs = healthRecheckMs(found, Date.now(), shown?.row.health ?? 'starting');
		healthTimer = recheckMs === null ? null : setTimeout(recheckHealth, recheckMs);
	};
	// Once the probe decides the health (Podman without systemd timers, or the engine's first check not
	// run yet), a recheck is the readiness probe alone, and the row is redrawn only when the health
	// changed: listing and inspecting the container every 5 s cost the idle dashboard ≈0.9 % of a core on
	// Podman. State changes, and the engine's own health, come as events.
	const recheckHealth = async () => {
		const before = shown;
		if (inspecting || !before?.found || (!engineRunsNoHealthChecks(before.found) && before.row.health !== 'healthy')) return resync();
		const row = await withHealthFallback(before.row, before.found);
		if (signal.aborted || shown !== before) return; // an event's inspection came meanwhile: it rules
		if (row.health !== before.row.health) {
			shown = { found: before.found, row };
			sink.dispatch({ type: 'service/updated', status: row });
		}
		scheduleHealth(before.found);
	};
	let oomTimer: NodeJS.Timeout | null = null;
	signal.addEventListener('abort', () => oomTimer && clearTimeout(oomTimer), { once: true });
	// Where the container's cgroup is on this machine, its counter says when the OOM killer ended a
	// process inside (agentRunner/oomStatus.ts counts it, at each inspection: the first, and each event's).
	// An engine that sends `oom` events (Docker) streams them with the others: the event's inspection
	// reads the counter, and nothing watches it in between. Only where none comes (Podman) is it watched:
	// cgroup v2 tells of a change (inotify); v1's counter is read with each sample of the stats stream
	// below, a wake-up the dashboard has anyway (platform/cgroupOomKills.ts says why).
	let cgroupWatch: { start: string; watch: CgroupOomWatch } | null = null;
	const stopCgroupWatch = () => {
		cgroupWatch?.watch.close();
		cgroupWatch = null;
	};
	signal.addEventListener('abort', stopCgroupWatch, { once: true });
	const watchCgroupOom = (found: Awaited<ReturnType<typeof currentContainer>>) => {
		const start = found?.State.Running && engineSendsNoOom(api) ? `${found.Id} ${found.State.StartedAt}` : null;
		if (cgroupWatch?.start === start) return;
		stopCgroupWatch();
		const watch = found && start ? watchCgroupOomKills(found.State.Pid, found.Id, resync) : null;
		if (watch && start) cgroupWatch = { start, watch };
	};
	let oomShown: string | null = null;
	const inspect = async () => {
		const found = await currentContainer(api, home);
		if (signal.aborted) return;
		const [healthRow, oom] = await Promise.all([withHealthFallback(containerStatus(found, endpoint, found?.Config.Image ?? config.agentRunner.image), found), refreshOomRecord(api, home, found)]);
		if (signal.aborted) return;
		const row = withOom(healthRow, oom.record);
		// an `oom` with no `die` yet: the main process's, or one inside? Known once the window has passed
		if (oom.undecided && !oomTimer) {
			oomTimer = setTimeout(() => {
				oomTimer = null;
				resync();
			}, dieWindowMs + 100);
		}
		// the log pane says it too, once, at the time it happened
		const note = oomNote(row);
		if (note && note !== oomShown) {
			const at = row.oomKills && (!row.oomKilledAt || row.oomKills.lastAt > row.oomKilledAt) ? row.oomKills.lastAt : row.oomKilledAt!;
			sink.appendLogs([{ service: agentRunnerService, stream: 'stderr', time: normalizeTime(at) ?? normalizeTime(new Date().toISOString())!, line: `stigmer: ${note}` }]);
		}
		oomShown = note;
		shown = { found, row };
		sink.dispatch({ type: 'service/updated', status: row });
		scheduleHealth(found);
		watchCgroupOom(found);
		if (found?.State.Running) startStats(found.Id);
		else {
			stopStats();
			sink.dispatch({ type: 'stats/cleared', service: agentRunnerService });
		}
	};
	// events come in bursts (kill, die, stop, destroy): one inspect at a time, one more after it if needed
	const resync = () => {
		if (inspecting) {
			again = true;
			return;
		}
		inspecting = inspect()
			.catch(() => {})
			.finally(() => {
				inspecting = null;
				if (again && !signal.aborted) {
					again = false;
					resync();
				}
			});
	};

	await subscribeEngineEvents(
		{ api, homeHash: home.hash, signal },
		{
			onReachable: async (connected) => {
				sink.dispatch({
					type: 'engine/changed',
					engine: { reachable: true, endpoint: connected.info?.endpoint ?? connected.endpointUrl, remote: engineIsRemote(connected.endpoint), version: connected.info?.version ?? null },
				});
				resync();
			},
			onUnreachable: (error) => {
				stopStats();
				sink.dispatch({ type: 'stats/cleared', service: agentRunnerService });
				sink.dispatch({ type: 'engine/changed', engine: { reachable: false, error } });
			},
			// the healthcheck's exec_create/exec_start/exec_die every few seconds change nothing in the row
			// (its outcome comes as health_status): no inspection, no redraw
			onEvent: (event) => {
				if (!(event.Action ?? event.status ?? '').startsWith('exec_')) resync();
			},
		},
	);
}
