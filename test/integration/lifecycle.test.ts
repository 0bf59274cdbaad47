// `stigmer server start|stop|restart|status` and `doctor` against the real engine and real processes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { containerSecurity, homeHash, serviceUser } from '../../source/contract.ts';
import { healthStart } from '../../source/agentRunner/ContainerService.ts';
import { foldOomEvents, parseOomEvents } from '../../source/agentRunner/oomEvents.ts';
import { serviceProcess } from '../helpers/containerProcesses.ts';
import { oomHogScript } from '../helpers/oomHog.ts';
import { engineKind } from '../helpers/engineKind.ts';
import { type CliResult, collect, fixture, freePort, makeTestHome, spawnCli, type TestHome } from '../helpers/cli.ts';
import { finalAnswer, startFakeLlm, toolCall } from '../helpers/fakeLlm.ts';
import { readWorkspaceFile, remoteEngine } from '../helpers/remoteEngine.ts';

const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim();
const containersOf = (dir: string) =>
	docker('ps', '-aq', '--no-trunc', '--filter', `label=ai.stigmer.home=${homeHash(dir)}`)
		.split('\n')
		.filter(Boolean);
const status = async (home: TestHome) => {
	const r = await home.cli(['server', 'status', '--json']);
	assert.equal(r.code, 0, r.stderr);
	return JSON.parse(r.stdout) as { engine: { reachable: boolean }; services: Array<Record<string, any>> };
};
const row = (s: Awaited<ReturnType<typeof status>>, name: string) => s.services.find((x) => x.name === name)!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await fn();
		if (value) return value;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await sleep(200);
	}
}
const alive = (pid: number) => {
	try {
		process.kill(pid, 0);
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		return !/\) Z /.test(stat);
	} catch {
		return false;
	}
};

/**
 * `server start` with a native beside the container, sent `signal` the moment the CLI says it creates
 * the container: its creation, start and readiness (over half a second on any engine) are still ahead,
 * so the signal lands during the start however slowly the machine answers. (Polling the engine for the
 * container missed it on a loaded machine: the runner was ready before the poll saw the container.)
 */
async function signalDuringStart(home: TestHome, signal: NodeJS.Signals): Promise<CliResult> {
	const nativePort = await freePort();
	home.writeConfig(`agentRunner:
  port: ${home.port}
services:
  native:
    command: [node, ${fixture('native-server.mjs')}]
    args: [--port, "${nativePort}"]
    ready: { http: "http://127.0.0.1:${nativePort}/healthz" }
`);
	const child = spawnCli(['--home', home.dir, 'server', 'start']);
	const done = collect(child, 120_000);
	await new Promise<void>((resolve, reject) => {
		let said = '';
		const onData = (chunk: Buffer | string) => {
			said += String(chunk);
			if (!said.includes('agent-runner: creating container')) return;
			child.stderr!.off('data', onData);
			resolve();
		};
		child.stderr!.on('data', onData);
		child.once('exit', () => reject(new Error(`server start ended before it created its container:\n${said}`)));
	});
	child.kill(signal);
	return done;
}

describe('server lifecycle', { timeout: 600_000 }, () => {
	let home: TestHome;
	before(async () => {
		home = await makeTestHome();
	});
	after(async () => {
		await home.cleanup();
	});

	test('start is idempotent: the second start reuses the same container', async () => {
		const first = await home.cli(['server', 'start']);
		assert.equal(first.code, 0, first.stderr);
		const s1 = await status(home);
		assert.equal(row(s1, 'agent-runner').state, 'running');
		// start said ready: status right after it agrees, whether or not the engine's own check has run
		assert.equal(row(s1, 'agent-runner').health, 'healthy');
		assert.equal(s1.engine.reachable, true);
		const second = await home.cli(['server', 'start']);
		assert.equal(second.code, 0, second.stderr);
		const s2 = await status(home);
		assert.equal(row(s2, 'agent-runner').id, row(s1, 'agent-runner').id, `the second start replaced the container:\n${second.stdout}${second.stderr}`);
		assert.equal(containersOf(home.dir).length, 1);
		const readyz = await fetch(`http://127.0.0.1:${home.port}/readyz`);
		assert.equal(readyz.status, 200);
	});

	test("the health check: the image's, every 30 s, with Docker 25+'s start interval where the engine has one", async () => {
		const [id] = containersOf(home.dir);
		const config = JSON.parse(docker('inspect', '-f', '{{json .Config.Healthcheck}}', id!)) as { Test: string[]; Interval: number; StartInterval?: number };
		assert.ok(!config.Test.join(' ').includes('python'), `no interpreter per check: ${config.Test.join(' ')}`);
		assert.equal(config.Interval, 30e9);
		if ((await engineKind()).hasStartInterval) assert.equal(config.StartInterval, healthStart.intervalNs);
		// and the check itself answers: run as the engine runs it
		const [kind, ...command] = config.Test;
		assert.equal(kind, 'CMD');
		docker('exec', id!, ...command);
	});

	test('the container runs with the hardening of docs/contract.md', async () => {
		const [id] = containersOf(home.dir);
		const inspect = JSON.parse(docker('inspect', id!))[0];
		assert.equal(inspect.HostConfig.ReadonlyRootfs, true);
		// Docker lists the drop as ['ALL'], Podman as each capability of its default set: what counts is
		// that the service process has none, effective or permitted, and that nothing in the container
		// can ever hold more than the launcher's three (the bounding set)
		// (Podman 5.4's default set is 11: it lists the 8 left once the launcher's three are added back)
		if (!inspect.HostConfig.CapDrop.includes('ALL')) assert.ok(inspect.HostConfig.CapDrop.length >= 8, inspect.HostConfig.CapDrop);
		const service = await serviceProcess(id!);
		const serviceCaps = docker('exec', id!, 'grep', '-E', '^Cap(Eff|Prm)', `/proc/${service.pid}/status`);
		assert.match(serviceCaps, /CapPrm:\s+0{16}\s+CapEff:\s+0{16}/);
		const bounding = docker('exec', id!, 'grep', '-E', '^CapBnd', '/proc/self/status');
		assert.match(bounding, /CapBnd:\s+0{14}c1/, 'CHOWN, SETGID and SETUID only');
		assert.ok(inspect.HostConfig.SecurityOpt.some((o: string) => o.startsWith('no-new-privileges')));
		assert.equal(inspect.HostConfig.Init, true);
		assert.ok(inspect.HostConfig.Memory > 0);
		assert.ok(inspect.HostConfig.NanoCpus > 0);
		assert.ok(inspect.HostConfig.Tmpfs['/tmp'] !== undefined);
		assert.equal(inspect.Config.Labels['ai.stigmer.managed'], 'true');
		assert.equal(inspect.Config.Labels['ai.stigmer.service'], 'agent-runner');
		assert.equal(inspect.Config.Labels['ai.stigmer.home'], homeHash(home.dir));
		assert.ok(!inspect.Config.Env.some((e: string) => /TOKEN=|API_KEY=/.test(e) && !e.includes('_FILE=')), 'no secret in the environment');
		assert.ok(!JSON.stringify(inspect.HostConfig.Binds).includes('docker.sock'));
		// root with three capabilities is the sandbox launcher only; the service has no privilege
		// Podman reports CapAdd empty (its drop list leaves the added ones out); the effective set is checked above
		if (inspect.HostConfig.CapDrop.includes('ALL')) assert.deepEqual(inspect.HostConfig.CapAdd, [...containerSecurity.capAdd]);
		assert.equal((await serviceProcess(id!)).uid, serviceUser().uid);
		const token = path.join(home.dir, 'secrets', 'api-token');
		assert.equal(statSync(token).mode & 0o777, 0o600);
		assert.equal(statSync(path.join(home.dir, 'secrets')).mode & 0o777, 0o700);
		// its own network namespace; the API is published on the host's loopback only (a remote engine's
		// host is not this machine: there it is not published at all, the supervisor's forward reaches it)
		assert.notEqual(inspect.HostConfig.NetworkMode, 'host');
		if (remoteEngine) assert.ok(!inspect.HostConfig.PortBindings || Object.keys(inspect.HostConfig.PortBindings).length === 0, JSON.stringify(inspect.HostConfig.PortBindings));
		else assert.deepEqual(inspect.HostConfig.PortBindings, { '7480/tcp': [{ HostIp: '127.0.0.1', HostPort: String(home.port) }] });
	});

	test('a request without the token is refused', async () => {
		const r = await fetch(`http://127.0.0.1:${home.port}/v1/executions`);
		assert.equal(r.status, 401);
	});

	test('a crash of the container is restarted by policy and counted', async () => {
		const before = row(await status(home), 'agent-runner');
		const [id] = containersOf(home.dir);
		// docker kill counts as a manual stop for the engine's restart policy; a real crash is the main
		// process dying. The init's child (the sandbox launcher) is root in the container, which a
		// non-root test user cannot signal from the host: kill it from inside, where init passes its
		// death on as the container's exit.
		// Podman may answer the exec with "no such exec session" when the container it ran in is already
		// gone: the kill happened either way, and the restart below is what the test checks.
		// Docker 28 may end the exec with the container, as killed (137).
		try {
			docker('exec', id!, 'sh', '-c', 'kill -KILL $(cat /proc/1/task/1/children)');
		} catch (error) {
			if ((error as { status?: number }).status !== 137 && !/no such exec session|is not running|No such container/i.test(String(error))) throw error;
		}
		const after = await until('a restart', async () => {
			const r = row(await status(home), 'agent-runner');
			return r.restarts > before.restarts && r.state === 'running' ? r : null;
		});
		assert.equal(after.id, before.id);
		assert.equal(after.restarts, before.restarts + 1);
		// and start again finds it, waits for readiness, and changes nothing
		const again = await home.cli(['server', 'start']);
		assert.equal(again.code, 0, again.stderr);
		assert.equal(row(await status(home), 'agent-runner').id, before.id, `start replaced the restarted container:\n${again.stdout}${again.stderr}`);
	});

	test('a changed configuration recreates the container', async () => {
		const before = row(await status(home), 'agent-runner');
		home.writeConfig(`agentRunner:\n  port: ${home.port}\n  memory: 768m\n  env:\n    EXAMPLE: "1"\nservices: {}\n`);
		const r = await home.cli(['server', 'start']);
		assert.equal(r.code, 0, r.stderr);
		const after = row(await status(home), 'agent-runner');
		assert.notEqual(after.id, before.id);
		assert.equal(containersOf(home.dir).length, 1);
		const inspect = JSON.parse(docker('inspect', after.id))[0];
		assert.equal(inspect.HostConfig.Memory, 768 * 1024 * 1024);
		assert.ok(inspect.Config.Env.includes('EXAMPLE=1'));
	});

	// Docker 26+ clears OOMKilled when the restart policy starts the container again, and stigmer keeps
	// what it saw in the home. Docker's `oom` event may not come (or be gone from its last 256 events, as
	// on the remote test host under load), and Podman 4.3 sends none and leaves OOMKilled false when the
	// kernel kills the service (not pid 1): on every engine the `die` with exit code 137 that no kill or
	// stop came before tells it, and the container's cgroup counter the kills inside where the engine is
	// on this machine (agentRunner/oomEvents.ts, oomStatus.ts).
	test('an out-of-memory kill of the service shows as oomKilled, with its time, after the restart too; start clears it', async () => {
		home.writeConfig(`agentRunner:\n  port: ${home.port}\n  memory: 64m\nservices: {}\n`);
		const r = await home.cli(['server', 'start']);
		assert.equal(r.code, 0, r.stderr);
		const [id] = containersOf(home.dir);
		const killedAfter = Date.now();
		// tmpfs pages count against the container's memory: filling /tmp past the limit makes the
		// kernel's OOM killer take the largest process, the service itself.
		try {
			docker('exec', id!, 'sh', '-c', 'head -c 200m /dev/zero > /tmp/fill');
		} catch {
			// the exec dies with its container
		}
		const after = await until(
			'oomKilled after the restart policy started it again',
			async () => {
				const s = row(await status(home), 'agent-runner');
				return s.oomKilled && s.state === 'running' && s.restarts >= 1 ? s : null;
			},
			30_000,
		);
		assert.ok(Date.parse(after.oomKilledAt) >= killedAfter - 1000, `oomKilledAt ${after.oomKilledAt}`);
		// the die alone tells it, as on an engine whose `oom` did not come: this engine's own events of the
		// kill, its `oom`s left out (an engine that sends none, Podman: the status above already had only the die)
		if (!(await engineKind()).sendsNoOom) {
			const told = docker('events', '--since', String(Math.floor(killedAfter / 1000) - 1), '--until', String(Math.ceil(Date.now() / 1000)), '--filter', `container=${id}`, '--format', '{{json .}}');
			const withoutOom = parseOomEvents(told, id!).filter((e) => e.action !== 'oom');
			assert.ok(
				withoutOom.some((e) => e.action === 'die' && e.exitCode === 137),
				`a die with exit code 137 in ${told}`,
			);
			assert.equal(foldOomEvents(null, id!, withoutOom).killedAt !== null, true, `the die by SIGKILL alone is the OOM kill: ${JSON.stringify(withoutOom)}`);
		}
		const table = await home.cli(['server', 'status']);
		assert.match(table.stdout, /OOM-killed at \d\d:\d\d:\d\d/);
		const logs = await home.cli(['server', 'logs', '-n', '1']);
		assert.match(logs.stderr, /agent-runner: OOM-killed at \d\d:\d\d:\d\d/);
		// the user starts it: no longer news
		assert.equal((await home.cli(['server', 'restart'])).code, 0);
		assert.equal(row(await status(home), 'agent-runner').oomKilledAt, undefined);
	});

	test('a process inside the container killed by the OOM killer is counted while the container lives on', async () => {
		const [id] = containersOf(home.dir);
		const before = row(await status(home), 'agent-runner');
		// the OOM killer's first choice is the one killed, not the service (helpers/oomHog.ts)
		let exec = 'exit 0: nothing was killed';
		try {
			docker('exec', id!, 'sh', '-c', oomHogScript);
		} catch (error) {
			// killed: exit 137 (anything else is said when no kill is counted)
			exec = `exit ${(error as { status?: number }).status}: ${String((error as { stderr?: string }).stderr ?? '').trim()}`;
		}
		let last: Record<string, any> = before;
		const after = await until(`a counted OOM kill (the exec's ${exec})`, async () => {
			last = row(await status(home), 'agent-runner');
			return last.oomKills ? last : null;
		}).catch((error: Error) => {
			// which side failed: the kernel's count (read here from the cgroup), or status's reading of it;
			// and whether the kernel took the service too (a restart: a new cgroup, counting from 0)
			const { state, restarts, oomKilledAt } = last;
			let kernel: string;
			try {
				kernel = docker('exec', id!, 'sh', '-c', 'cat /sys/fs/cgroup/memory/memory.oom_control /sys/fs/cgroup/memory.events 2>/dev/null | grep "^oom_kill "');
			} catch (e) {
				kernel = `unread (${String((e as Error).message).split('\n')[0]})`;
			}
			throw new Error(`${error.message}; the last status: ${JSON.stringify({ state, restarts, oomKilledAt })} (restarts before: ${before.restarts}); the container's cgroup now: ${kernel}`);
		});
		assert.equal(after.oomKills.count, 1);
		assert.equal(after.state, 'running');
		assert.equal(after.restarts, before.restarts, 'the container lived on');
		assert.equal(after.oomKilledAt, undefined);
		home.writeConfig(`agentRunner:\n  port: ${home.port}\nservices: {}\n`);
	});

	test('stop leaves no container and no process', async () => {
		const r = await home.cli(['server', 'stop']);
		assert.equal(r.code, 0, r.stderr);
		assert.deepEqual(containersOf(home.dir), []);
		const s = await status(home);
		assert.equal(row(s, 'agent-runner').state, 'stopped');
	});
});

describe('concurrency and interruption', { timeout: 600_000 }, () => {
	test('two concurrent starts make one container', async () => {
		const home = await makeTestHome();
		try {
			const [a, b] = await Promise.all([home.cli(['server', 'start']), home.cli(['server', 'start'])]);
			assert.equal(a.code, 0, a.stderr);
			assert.equal(b.code, 0, b.stderr);
			assert.equal(containersOf(home.dir).length, 1);
		} finally {
			await home.cleanup();
		}
	});

	test('SIGKILL of the CLI mid-start, then start again: consistent', async () => {
		const home = await makeTestHome();
		try {
			await signalDuringStart(home, 'SIGKILL');
			const r = await home.cli(['server', 'start']);
			assert.equal(r.code, 0, r.stderr);
			assert.equal(containersOf(home.dir).length, 1);
			assert.equal(row(await status(home), 'agent-runner').state, 'running');
		} finally {
			await home.cleanup();
		}
	});

	test('Ctrl-C during start stops what it started and exits 130', async () => {
		const home = await makeTestHome();
		try {
			const r = await signalDuringStart(home, 'SIGINT');
			assert.equal(r.code, 130, r.stderr);
			assert.match(r.stderr, /interrupted: stopped what this start had begun/);
			assert.deepEqual(containersOf(home.dir), []);
			assert.equal(row(await status(home), 'native').state, 'stopped', 'the native it started is stopped too');
		} finally {
			await home.cleanup();
		}
	});
});

describe('natives beside the container', { timeout: 600_000 }, () => {
	let home: TestHome;
	let nativePort: number;
	before(async () => {
		home = await makeTestHome();
		nativePort = await freePort();
		home.writeConfig(`agentRunner:
  port: ${home.port}
services:
  api:
    command: [node, ${fixture('native-server.mjs')}]
    args: [--port, "${nativePort}", --log-interval, "200", --spawn-child]
    ready: { http: "http://127.0.0.1:${nativePort}/healthz" }
    restart: on-failure
  ghost:
    command: [stigmer-ghost-service-not-installed]
    optional: true
`);
	});
	after(async () => {
		await home.cleanup();
	});

	test('start brings up natives first, reports not-installed ones, and status tells the truth', async () => {
		const r = await home.cli(['server', 'start']);
		assert.equal(r.code, 0, r.stderr);
		const s = await status(home);
		assert.equal(row(s, 'api').state, 'running');
		assert.equal(row(s, 'api').kind, 'native');
		assert.ok(row(s, 'api').pid > 0);
		assert.equal(row(s, 'ghost').state, 'not-installed');
		assert.equal(row(s, 'agent-runner').state, 'running');
		assert.ok(existsSync(path.join(home.dir, 'logs', 'api.log')));
	});

	test('a native crash is restarted with backoff', async () => {
		const before = row(await status(home), 'api');
		await fetch(`http://127.0.0.1:${nativePort}/crash`).catch(() => undefined);
		const after = await until('the native to restart', async () => {
			const s = row(await status(home), 'api');
			return s.state === 'running' && s.pid !== before.pid ? s : null;
		});
		assert.equal(after.restarts, before.restarts + 1);
	});

	test('restart of one service leaves the other alone', async () => {
		const before = await status(home);
		const r = await home.cli(['server', 'restart', 'api']);
		assert.equal(r.code, 0, r.stderr);
		const after = await status(home);
		assert.notEqual(row(after, 'api').pid, row(before, 'api').pid);
		assert.equal(row(after, 'agent-runner').id, row(before, 'agent-runner').id);
	});

	test('stop leaves no native process, child or zombie', async () => {
		const pid = row(await status(home), 'api').pid as number;
		const r = await home.cli(['server', 'stop']);
		assert.equal(r.code, 0, r.stderr);
		assert.equal(alive(pid), false);
		// An orphaned child is reparented to pid 1, which reaps it; nothing of the group may linger.
		const members = () =>
			execFileSync('ps', ['-eo', 'pid,pgid,stat'], { encoding: 'utf8' })
				.split('\n')
				.filter((l) => l.trim().split(/\s+/)[1] === String(pid));
		await until('the process group to be empty', async () => members().length === 0, 10_000).catch(() => undefined);
		assert.deepEqual(members(), [], `process group ${pid} still has members`);
		assert.deepEqual(containersOf(home.dir), []);
	});
});

describe('errors name the problem and the fix', { timeout: 300_000 }, () => {
	test('readiness timeout: exit 4 with the last lines of the service that did not become ready', async () => {
		const home = await makeTestHome();
		const port = await freePort();
		try {
			home.writeConfig(`agentRunner:
  port: ${home.port}
services:
  slow:
    command: [node, ${fixture('native-server.mjs')}]
    args: [--log-interval, "100"]
    ready: { tcp: ${port} }
`);
			const r = await home.cli(['server', 'start', '--timeout', '2']);
			assert.equal(r.code, 4, r.stderr);
			assert.match(r.stderr, /slow did not become ready within 2 s/);
			assert.match(r.stderr, /tick \d+/, 'the last log lines are shown');
			home.writeConfig(`agentRunner:\n  port: ${home.port}\nservices: {}\n`);
			const c = await home.cli(['server', 'start', '--timeout', '0.01']);
			assert.equal(c.code, 4, c.stderr);
			assert.match(c.stderr, /agent-runner did not become ready within 0.01 s/);
		} finally {
			await home.cleanup();
		}
	});

	test('DOCKER_HOST pointing at a missing socket: exit 3 with guidance', async () => {
		const home = await makeTestHome();
		try {
			const r = await home.cli(['server', 'start'], { env: { DOCKER_HOST: 'unix:///tmp/stigmer-no-such.sock' } });
			assert.equal(r.code, 3);
			assert.match(r.stderr, /stigmer-no-such\.sock/);
			assert.match(r.stderr, /start|install/);
			assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
			const s = await home.cli(['server', 'status', '--json'], { env: { DOCKER_HOST: 'unix:///tmp/stigmer-no-such.sock' } });
			assert.equal(s.code, 3, s.stderr);
			assert.equal(JSON.parse(s.stdout).engine.reachable, false);
		} finally {
			await home.cleanup();
		}
	});

	test('a port taken by another program: an error naming it, nothing started', async () => {
		const home = await makeTestHome();
		const blocker = net.createServer().listen(home.port, '127.0.0.1');
		await new Promise((r) => blocker.once('listening', r));
		try {
			const r = await home.cli(['server', 'start']);
			assert.equal(r.code, 1);
			assert.match(r.stderr, new RegExp(`port ${home.port}`));
			assert.deepEqual(containersOf(home.dir), []);
			// nor the home's network, nor the supervisor that the LLM forward had started
			assert.equal(docker('network', 'ls', '-q', '--filter', `label=ai.stigmer.home=${homeHash(home.dir)}`), '');
			assert.ok(!existsSync(path.join(home.dir, 'run', 'supervisor.sock')), 'no supervisor left');
			const d = await home.cli(['doctor', '--json']);
			const check = JSON.parse(d.stdout).checks.find((c: { name: string }) => c.name === `port ${home.port}`);
			assert.equal(check.status, 'fail');
			assert.match(check.detail, new RegExp(`pid ${process.pid}`));
		} finally {
			blocker.close();
			await home.cleanup();
		}
	});

	test('a corrupt config: exit 2 naming file, line and key', async () => {
		const home = await makeTestHome();
		try {
			home.writeConfig('agentRunner:\n  port: 7480\n  memroy: 1g\n');
			const r = await home.cli(['server', 'start']);
			assert.equal(r.code, 2);
			assert.match(r.stderr, /config\.yaml:3: agentRunner\.memroy: unknown key/);
			home.writeConfig('agentRunner:\n  port: "high"\n');
			const r2 = await home.cli(['server', 'restart']);
			assert.equal(r2.code, 2);
			assert.match(r2.stderr, /config\.yaml:2: agentRunner\.port/);
			// status works from what runs (issue 25), saying where the config is wrong
			const r3 = await home.cli(['server', 'status']);
			assert.equal(r3.code, 0, r3.stderr);
			assert.match(r3.stdout, /config: invalid \(.*config\.yaml:2: agentRunner\.port/);
		} finally {
			await home.cleanup();
		}
	});

	test('an unusable home: a clear error', async () => {
		const file = path.join((await makeTestHome()).dir, 'a-file');
		writeFileSync(file, 'x');
		const r = await spawnAndCollect(['--home', path.join(file, 'home'), 'server', 'start']);
		assert.equal(r.code, 1);
		assert.match(r.stderr, /cannot use .* as the stigmer home/);
		assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
	});

	test('unknown service names are usage errors listing the known ones', async () => {
		const home = await makeTestHome();
		const r = await home.cli(['server', 'stop', 'nope']);
		assert.equal(r.code, 2);
		assert.match(r.stderr, /unknown service "nope"/);
		assert.match(r.stderr, /agent-runner/);
	});
});

describe('the container reaches an LLM on the host loopback', { timeout: 300_000 }, () => {
	test('an execution submitted through the API reaches a fake LLM on 127.0.0.1', async () => {
		const llm = await startFakeLlm({ host: '127.0.0.1', script: [toolCall('write_file', { path: 'hello.txt', content: 'hi' }), finalAnswer('wrote it')] });
		const home = await makeTestHome();
		try {
			home.writeConfig(`agentRunner:\n  port: ${home.port}\n  llm:\n    baseUrl: ${llm.url}\n    model: fake\nservices: {}\n`);
			const r = await home.cli(['server', 'start']);
			assert.equal(r.code, 0, r.stderr);
			const token = readFileSync(path.join(home.dir, 'secrets', 'api-token'), 'utf8').trim();
			const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
			const submit = await fetch(`http://127.0.0.1:${home.port}/v1/executions`, {
				method: 'POST',
				headers,
				body: JSON.stringify({ agent: { name: 'writer', instructions: 'write a file' }, input: 'go' }),
			});
			assert.equal(submit.status, 202);
			const { id } = (await submit.json()) as { id: string };
			const final = await until(
				'the execution to finish',
				async () => {
					const e = (await (await fetch(`http://127.0.0.1:${home.port}/v1/executions/${id}`, { headers })).json()) as { status: string; error?: string };
					return ['succeeded', 'failed'].includes(e.status) ? e : null;
				},
				60_000,
			);
			assert.equal(final.status, 'succeeded', JSON.stringify(final));
			assert.ok(llm.requests.length >= 2);
			assert.equal(await readWorkspaceFile(path.join(home.dir, 'workspace'), containersOf(home.dir)[0]!, path.join(id, 'hello.txt')), 'hi');
			const d = await home.cli(['doctor', '--json']);
			assert.equal(JSON.parse(d.stdout).checks.find((c: { name: string }) => c.name === 'llm').status, 'ok');
		} finally {
			await home.cleanup();
			await llm.close();
		}
	});
});

async function spawnAndCollect(args: string[]) {
	return collect(spawnCli(args), 60_000);
}
