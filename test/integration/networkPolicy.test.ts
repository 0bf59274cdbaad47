// The network policy `none` of agent commands (agent-runner/stigmer_agent_runner/netpolicy.py) against the
// real container: an execution driven by the fake model tries every way out, and each is refused with
// EACCES at socket creation; the same probe from the container's own network (docker exec: the namespace
// the runner's process uses, without the filter) reaches what the test set up, so a refusal means something.
// Stand-ins built by the test on this machine only: a host service on 0.0.0.0 (TCP and UDP), and a network
// namespace joined to the host by a veth pair, holding a private-range address (the LAN) and a link-local
// one (a cloud's metadata service). Those need root and this machine's network, so on a remote engine (its
// own namespaces) only the probes inside the container's reach run.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { containerEnv, containerHttpPort } from '../../source/contract.js';
import { DockerApi } from '../../source/engine/DockerApi.js';
import { docker, dockerInspect, networkGateway } from '../helpers/docker.js';
import { finalAnswer, startFakeLlm, toolCall, type FakeLlm } from '../helpers/fakeLlm.js';
import { remoteEngine } from '../helpers/remoteEngine.js';
import { RunnerStack } from '../helpers/runnerStack.js';

/**
 * One line per target, `TARGET -> open|sent|resolved ADDR|listening|ERRNO NAME`; exits with the number of
 * targets reached. `listen:PORT` opens a server on the loopback for the rest of the probe (not counted).
 */
const probeScript = `import errno, socket, sys
reached = 0
kept = []
for t in sys.argv[1:]:
    kind, _, rest = t.partition(":")
    try:
        if kind == "listen":
            kept.append(socket.create_server(("127.0.0.1", int(rest))))
            print(t, "-> listening", flush=True)
            continue
        if kind == "tcp":
            h, p = rest.rsplit(":", 1)
            socket.create_connection((h, int(p)), timeout=3).close()
            r = "open"
        elif kind == "udp":
            h, p = rest.rsplit(":", 1)
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.sendto(b"probe", (h, int(p)))
            s.close()
            r = "sent"
        elif kind == "dns":
            r = "resolved " + socket.getaddrinfo(rest, 443)[0][4][0]
        else:
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(3)
            s.connect(rest)
            s.close()
            r = "open"
        reached += 1
    except socket.gaierror as e:
        r = "EAI%d" % e.errno
    except OSError as e:
        r = errno.errorcode.get(e.errno, type(e).__name__) if e.errno else type(e).__name__
    print(t, "->", r, flush=True)
sys.exit(min(reached, 100))
`;

interface ToolResult {
	ok: boolean;
	output: string;
	exit_code: number | null;
}

let llm: FakeLlm;
let stack: RunnerStack;
let gateway = '';
const asRoot = process.getuid?.() === 0;
const cleanups: Array<() => void> = [];

/** `TARGET -> RESULT` lines of a probe's output, as a map. */
function outcomes(output: string): Map<string, string> {
	return new Map([...output.matchAll(/^(\S+) -> (.+)$/gm)].map((m) => [m[1]!, m[2]!.trim()]));
}

/** The probe as an agent's command: one execution, one run_command; its tool result (and the execution's events). */
async function probeInSandbox(targets: string[], on: RunnerStack = stack, agentNetwork?: unknown): Promise<ToolResult & { events: Array<{ type: string; data: Record<string, unknown> }> }> {
	llm.reset();
	llm.push(toolCall('run_command', { command: `python3 -c '${probeScript}' ${targets.join(' ')}`, timeout_seconds: 60 }), finalAnswer('done'));
	const agent = path.join(on.home.dir, 'agent.json');
	writeFileSync(agent, JSON.stringify({ name: 'prober', instructions: 'x', tools: ['run_command'], ...(agentNetwork ? { network: agentNetwork } : {}) }));
	const run = await on.cli(['run', agent, 'go', '--json'], { timeoutMs: 120_000 });
	const events = run.stdout
		.trim()
		.split('\n')
		.map((line) => JSON.parse(line) as { type: string; data: Record<string, unknown> });
	const results = events.filter((e) => e.type === 'tool_result').map((e) => e.data as unknown as ToolResult);
	assert.equal(results.length, 1, run.stdout + run.stderr);
	return { ...results[0]!, events };
}

/** The same probe from the container's network namespace without the filter (as the runner's process is). */
async function probeInContainer(targets: string[], on: RunnerStack = stack): Promise<{ code: number; lines: Map<string, string> }> {
	const result = await docker(['exec', on.containerName, 'python3', '-c', probeScript, ...targets], { allowFailure: true, timeoutMs: 60_000 });
	return { code: result.code, lines: outcomes(result.stdout) };
}

/** Every target refused at socket creation: EACCES ("Permission denied"), and the command exits 0 (nothing reached). */
function assertAllRefused(result: ToolResult, targets: string[], except: Record<string, RegExp> = {}): void {
	const lines = outcomes(result.output);
	for (const target of targets) {
		const expected = except[target] ?? /^EACCES$/;
		assert.match(lines.get(target) ?? '(no line)', expected, `${target} from the sandbox:\n${result.output}`);
	}
	assert.equal(result.exit_code, 0, `nothing was reached:\n${result.output}`);
}

const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** A TCP server on 0.0.0.0 (all of this machine's addresses) and a UDP one; both count what reaches them. */
async function hostServices(): Promise<{ tcp: number; udp: number; connections: () => number; datagrams: () => number }> {
	let connections = 0;
	let datagrams = 0;
	const server = net.createServer((socket) => {
		connections += 1;
		socket.on('error', () => undefined); // the probe closes at once: a reset is expected
		socket.end('host secret\n');
	});
	await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
	const udp = dgram.createSocket('udp4');
	udp.on('message', () => (datagrams += 1));
	await new Promise<void>((resolve) => udp.bind(0, '0.0.0.0', resolve));
	cleanups.push(
		() => server.close(),
		() => udp.close(),
	);
	return { tcp: (server.address() as net.AddressInfo).port, udp: udp.address().port, connections: () => connections, datagrams: () => datagrams };
}

/**
 * A network namespace standing for the LAN and a metadata service: veth to this machine, 10.213.N.2/24
 * and 169.254.213.N inside it, a TCP listener on both. Removed (with its veth, routes and listener) in `after`.
 */
async function lanNamespace(): Promise<{ lan: string; metadata: string; publicAddress: string; publicRouted: string | null; port: number; outer: string }> {
	const id = randomBytes(3).toString('hex');
	const n = 1 + (randomBytes(1)[0]! % 250);
	const ns = `stigmer-lan-${id}`;
	const [outer, inner] = [`stl${id}h`, `stl${id}n`];
	const lan = `10.213.${n}.2`;
	const metadata = `169.254.213.${n}`;
	// a global unicast address (Python's is_global) that only this /32 route of this machine leads to
	const publicAddress = `11.213.${n}.2`;
	ip('netns', 'add', ns);
	cleanups.push(() => {
		try {
			ip('netns', 'del', ns); // its end of the veth goes with it, and so does ours (and our route)
		} catch {}
	});
	ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner, 'netns', ns);
	ip('addr', 'add', `10.213.${n}.1/24`, 'dev', outer);
	ip('link', 'set', outer, 'up');
	ip('-n', ns, 'addr', 'add', `${lan}/24`, 'dev', inner);
	ip('-n', ns, 'addr', 'add', `${metadata}/32`, 'dev', inner);
	ip('-n', ns, 'link', 'set', inner, 'up');
	ip('-n', ns, 'link', 'set', 'lo', 'up');
	ip('-n', ns, 'route', 'add', 'default', 'via', `10.213.${n}.1`);
	ip('route', 'add', `${metadata}/32`, 'via', lan, 'dev', outer);
	ip('-n', ns, 'addr', 'add', `${publicAddress}/32`, 'dev', inner);
	ip('route', 'add', `${publicAddress}/32`, 'via', lan, 'dev', outer);
	// before anything is sent there: this machine routes it into the namespace (else the tests that need it skip, loudly)
	const route = ip('route', 'get', publicAddress);
	const publicRouted = route.includes(`dev ${outer}`) ? null : route.trim();
	const port = 8000 + (randomBytes(2).readUInt16BE() % 20000);
	const listener: ChildProcess = spawn(
		'ip',
		['netns', 'exec', ns, 'python3', '-c', `import socket\ns = socket.create_server(("0.0.0.0", ${port}))\nwhile True:\n    c, _ = s.accept()\n    c.sendall(b"lan secret\\n")\n    c.close()`],
		{ stdio: 'ignore' },
	);
	cleanups.unshift(() => listener.kill('SIGKILL')); // first: a process in the namespace would keep it alive
	process.once('exit', () => listener.kill('SIGKILL'));
	// reachable from this machine (bounded wait for the listener to bind)
	for (const address of publicRouted === null ? [lan, metadata, publicAddress] : [lan, metadata]) {
		const deadline = Date.now() + 15_000;
		while (!(await connects(address, port))) {
			assert.ok(Date.now() < deadline, `the namespace's listener on ${address}:${port} never answered`);
			await new Promise((resolve) => setTimeout(resolve, 100));
		}
	}
	return { lan, metadata, publicAddress, publicRouted, port, outer };
}

const connects = (host: string, port: number) =>
	new Promise<boolean>((resolve) => {
		const socket = net.connect({ host, port, timeout: 2000 });
		socket.once('connect', () => {
			socket.destroy();
			resolve(true);
		});
		socket.once('error', () => resolve(false));
		socket.once('timeout', () => {
			socket.destroy();
			resolve(false);
		});
	});

/** The engine's default bridge gateway (docker0, Podman's `podman` network), when it has one. */
async function defaultBridgeGateway(): Promise<string | null> {
	for (const name of ['bridge', 'podman']) {
		const found = await networkGateway(name).catch(() => null);
		if (found) return found.gateway;
	}
	return null;
}

before(async () => {
	llm = await startFakeLlm({ script: [], host: '127.0.0.1' });
	stack = await RunnerStack.start({ llmUrl: llm.url });
	const inspect = await dockerInspect(stack.containerName);
	gateway = (Object.values(inspect.NetworkSettings.Networks ?? {}) as Array<{ Gateway?: string }>).find((n) => n.Gateway)?.Gateway ?? '';
	assert.match(gateway, /^\d+\.\d+\.\d+\.\d+$/, 'the container has a gateway');
});

after(async () => {
	for (const cleanup of cleanups.splice(0)) {
		try {
			cleanup();
		} catch {}
	}
	await stack?.dispose();
	await llm?.close();
});

describe('network policy none: an execution opens no connection to anything', { timeout: 600_000 }, () => {
	test('the container runs with the policy and the launcher enforces it', async () => {
		const inspect = await dockerInspect(stack.containerName);
		assert.ok((inspect.Config.Env as string[]).includes(`${containerEnv.sandboxNetwork}=none`));
		assert.match(await stack.logs(), /commands' network policy none: enforced \(seccomp filter, (x86_64|aarch64)\)/);
		const doctor = JSON.parse((await stack.cli(['doctor', '--json'])).stdout) as { checks: Array<{ name: string; status: string; detail: string }> };
		const check = doctor.checks.find((c) => c.name === 'network policy');
		assert.equal(check?.status, 'ok', JSON.stringify(check));
		assert.match(check!.detail, /^none: commands open no network connection/);
	});

	test("the runner's own API, the gateway, the engine, a UDP datagram and DNS: refused (the container's network reaches them)", async () => {
		const api = `tcp:127.0.0.1:${containerHttpPort}`;
		const own = `tcp:${gateway}:${stack.port}`; // the published port, through the gateway
		// The control of the DNS refusal: the container's own name, which Docker's DNS on a user network
		// answers (no query leaves the machine). Podman writes the name into /etc/hosts instead (no DNS), and
		// on the default bridge (a remote engine) no DNS knows it: there the refusal has no control.
		const ownName = `dns:${stack.containerName}`;
		const inHosts = (await docker(['exec', stack.containerName, 'cat', '/etc/hosts'])).stdout.includes(stack.containerName);
		const control = await probeInContainer([api, ownName]);
		assert.equal(control.lines.get(api), 'open', "the container's network reaches the runner's API");
		const dnsControl = !inHosts && control.lines.get(ownName)?.startsWith('resolved ');
		if (!dnsControl) console.log(`# the DNS refusal has no control on this engine (${inHosts ? 'the name is in /etc/hosts' : control.lines.get(ownName)})`);
		const targets = [
			api,
			`tcp:::1:${containerHttpPort}`,
			own,
			`tcp:${gateway}:2375`,
			`tcp:${gateway}:2376`,
			`udp:${gateway}:53`,
			'dns:deb.debian.org',
			...(dnsControl ? [ownName] : []),
			'unix:/var/run/docker.sock',
			'unix:/run/podman/podman.sock',
		];
		const result = await probeInSandbox(targets);
		assertAllRefused(result, targets, {
			// glibc's resolver could not open its UDP socket
			'dns:deb.debian.org': /^EAI-\d+$/,
			[ownName]: /^EAI-\d+$/,
			// no engine socket is in the container at all
			'unix:/var/run/docker.sock': /^ENOENT$/,
			'unix:/run/podman/podman.sock': /^ENOENT$/,
		});
	});

	test("services on 0.0.0.0 of the user's machine, at the home network's gateway and the default bridge's: refused", async (t) => {
		if (remoteEngine) return t.skip("a remote engine's host is another machine: this machine's services are not its gateway's");
		const host = await hostServices();
		const bridge = await defaultBridgeGateway();
		const tcp = [`tcp:${gateway}:${host.tcp}`, ...(bridge ? [`tcp:${bridge}:${host.tcp}`] : [])];
		const udp = `udp:${gateway}:${host.udp}`;
		const control = await probeInContainer([...tcp, udp]);
		assert.equal(control.lines.get(tcp[0]!), 'open', `the container's network reaches the host's service at the gateway: ${[...control.lines]}`);
		if (bridge && control.lines.get(tcp[1]!) !== 'open') console.log(`# the default bridge's ${bridge} is not reachable here even without the policy (${control.lines.get(tcp[1]!)})`);
		const deadline = Date.now() + 10_000;
		while (host.datagrams() === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
		assert.ok(host.datagrams() >= 1, "the container's network delivers a UDP datagram to the host");
		const [connections, datagrams] = [host.connections(), host.datagrams()];
		const result = await probeInSandbox([...tcp, udp]);
		assertAllRefused(result, [...tcp, udp]);
		assert.equal(host.connections(), connections, 'no connection reached the host service');
		assert.equal(host.datagrams(), datagrams, 'no datagram reached the host service');
	});

	test('an address on the LAN and a link-local metadata address (a network namespace of this machine): refused', async (t) => {
		if (remoteEngine) return t.skip("a remote engine's network is not this machine's: the namespace would not be on its LAN");
		if (!asRoot) return t.skip('creating a network namespace needs root');
		const { lan, metadata, port } = await lanNamespace();
		const targets = [`tcp:${lan}:${port}`, `tcp:${metadata}:${port}`];
		const control = await probeInContainer(targets);
		for (const target of targets) assert.equal(control.lines.get(target), 'open', `the container's network reaches ${target}: ${[...control.lines]}`);
		assertAllRefused(await probeInSandbox(targets), targets);
	});

	test('an engine whose seccomp profile forbids installing the filter: no command runs, and run_command says why', async () => {
		const image = (await dockerInspect(stack.containerName)).Config.Image as string;
		// what a restrictive profile does: prctl(PR_SET_SECCOMP) and seccomp() fail with EPERM, the rest is allowed
		const profile = path.join(stack.home.dir, 'no-seccomp.json');
		writeFileSync(
			profile,
			JSON.stringify({
				defaultAction: 'SCMP_ACT_ALLOW',
				syscalls: [
					{ names: ['seccomp'], action: 'SCMP_ACT_ERRNO' },
					{ names: ['prctl'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 22, op: 'SCMP_CMP_EQ' }] },
				],
			}),
		);
		// the launcher as the container's main process, a small service in place of the runner's that runs one command
		const service = `import asyncio, os
from stigmer_agent_runner.sandbox import Sandbox
from stigmer_agent_runner.tools import ToolError, Workspace
ws = Workspace("/workspace/x", output_limit=4000, command_timeout=10, sandbox=Sandbox.from_env(os.environ))
async def main():
    try:
        print("RAN", (await ws.run_command("echo hello")).output.replace(chr(10), " "))
    except ToolError as e:
        print("REFUSED", e)
    finally:
        await ws.close()
asyncio.run(main())`;
		// Created through the engine's API: Podman 4.3's compat API opens a profile by its path on the
		// engine's host (this machine, for the matrix's Podman), Docker takes the profile's text (the docker
		// CLI would always send the text).
		const api = await DockerApi.connect();
		const podman = (api.info?.platform ?? '').toLowerCase().includes('podman');
		const run = async (withProfile: boolean) => {
			const name = `stigmer-test-seccomp-${randomBytes(4).toString('hex')}`;
			const seccomp = withProfile ? [`seccomp=${podman ? profile : readFileSync(profile, 'utf8')}`] : [];
			await api.docker.createContainer({
				name,
				Image: image,
				User: '0:0',
				Cmd: ['python3', '-c', service],
				HostConfig: {
					NetworkMode: 'none',
					ReadonlyRootfs: true,
					Tmpfs: { '/tmp': '', '/workspace': '' },
					CapDrop: ['ALL'],
					CapAdd: ['CHOWN', 'SETUID', 'SETGID'],
					SecurityOpt: ['no-new-privileges', ...seccomp],
				},
			});
			try {
				await docker(['start', name]);
				await docker(['wait', name], { timeoutMs: 60_000 });
				return await docker(['logs', name]);
			} finally {
				await docker(['rm', '-f', name], { allowFailure: true });
			}
		};
		const allowed = await run(false);
		assert.match(allowed.stdout, /^RAN exit code 0 stdout: hello/m, allowed.stdout + allowed.stderr);
		const refused = await run(true);
		api.close();
		assert.match(refused.stderr, /commands' network policy none: NOT ENFORCED, no command will run: .*could not be installed \(prctl\(PR_SET_SECCOMP\): Operation not permitted\)/);
		assert.match(
			refused.stdout,
			/^REFUSED sandbox: the command was not run: network policy 'none' cannot be enforced: .*; run the agent-runner container with the engine's default seccomp profile/m,
			refused.stdout + refused.stderr,
		);
		assert.doesNotMatch(refused.stdout, /hello/);
	});

	test('no unix socket in the container has an address a command could reach (those stay open to commands)', async () => {
		// /proc/net/unix of the container's namespace: a socket with a path (a file, or @abstract) is bound,
		// a stream one with flags 00010000 listens; the launcher's socketpair with the service has neither
		const table = (await docker(['exec', stack.containerName, 'cat', '/proc/net/unix'])).stdout.trim().split('\n').slice(1);
		assert.ok(table.length > 0, 'the table lists the launcher socketpair at least');
		const reachable = table.filter((line) => {
			const fields = line.trim().split(/\s+/);
			return fields.length > 7 || (Number.parseInt(fields[3] ?? '0', 16) & 0x10000) !== 0;
		});
		assert.deepEqual(reachable, []);
	});
});

async function gatewayOf(on: RunnerStack): Promise<string> {
	const inspect = await dockerInspect(on.containerName);
	const found = (Object.values(inspect.NetworkSettings.Networks ?? {}) as Array<{ Gateway?: string }>).find((n) => n.Gateway)?.Gateway ?? '';
	assert.match(found, /^\d+\.\d+\.\d+\.\d+$/, 'the container has a gateway');
	return found;
}

/** Each listed target reached ("open"), each other refused with EACCES, and each refusal an event of the execution. */
function assertPolicy(result: ToolResult & { events: Array<{ type: string; data: Record<string, unknown> }> }, reached: string[], refused: string[]): void {
	const lines = outcomes(result.output);
	for (const target of reached) assert.equal(lines.get(target), 'open', `${target} from the sandbox:\n${result.output}`);
	for (const target of refused) assert.equal(lines.get(target), 'EACCES', `${target} from the sandbox:\n${result.output}`);
	const events = new Set(result.events.filter((e) => e.type === 'network_refused').map((e) => String(e.data.destination)));
	for (const target of refused.filter((t) => t.startsWith('tcp:'))) {
		const destination = target.slice('tcp:'.length);
		assert.ok(events.has(destination), `a network_refused event names ${destination}: ${[...events]}`);
		assert.match(result.output, new RegExp(`sandbox: the network policy refused ${destination.replaceAll('.', '\\.')}: `));
	}
}

describe('network policies allow and internet: judged at each connect, on every engine', { timeout: 900_000 }, () => {
	let lan: Awaited<ReturnType<typeof lanNamespace>>;
	let host: Awaited<ReturnType<typeof hostServices>>;
	let other: Awaited<ReturnType<typeof hostServices>>;
	let allowStack: RunnerStack;
	let internetStack: RunnerStack;
	let skip = '';
	let allowGateway = '';
	const loopbackPort = 7999;
	let internetGateway = '';

	before(async () => {
		if (remoteEngine) skip = "a remote engine's network is not this machine's: its namespaces and services are not there";
		else if (!asRoot) skip = 'creating a network namespace needs root';
		// a server a command opens on the container's loopback: listed, on every engine (the runner's API beside it is not)
		const allow = [`127.0.0.1:${loopbackPort}`];
		if (!skip) {
			lan = await lanNamespace();
			host = await hostServices();
			other = await hostServices();
			// each home has its network, whose gateway is known once it exists: the host service is listed by ranges
			allow.push(`${lan.lan}:${lan.port}`, ...['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'].map((range) => `${range}:${host.tcp}`));
		}
		allowStack = await RunnerStack.start({ llmUrl: llm.url, sandbox: { network: `{ allow: [${allow.map((a) => JSON.stringify(a)).join(', ')}] }` } });
		internetStack = await RunnerStack.start({ llmUrl: llm.url, sandbox: { network: 'internet' } });
		allowGateway = await gatewayOf(allowStack);
		internetGateway = await gatewayOf(internetStack);
	});

	after(async () => {
		await allowStack?.dispose();
		await internetStack?.dispose();
	});

	test("allow and internet, on every engine: the supervisor holds; a listed loopback server is reached, the runner's API beside it refused", async () => {
		assert.match(await allowStack.logs(), /commands' network policy allow:.*: enforced \(seccomp filter and supervisor, (x86_64|aarch64)\)/);
		const [listen, listed, api] = [`listen:${loopbackPort}`, `tcp:127.0.0.1:${loopbackPort}`, `tcp:127.0.0.1:${containerHttpPort}`];
		const control = await probeInContainer([api], allowStack);
		assert.equal(control.lines.get(api), 'open', "the container's network reaches the runner's API");
		assertPolicy(await probeInSandbox([listen, listed, api], allowStack), [listed], [api]);
		// internet: the loopback is not public, the gateway neither
		const gatewayApi = `tcp:${internetGateway}:${internetStack.port}`;
		assertPolicy(await probeInSandbox([listen, listed, api, gatewayApi], internetStack), [], [listed, api, gatewayApi]);
	});

	test('allow: the listed LAN address and host service are reached; the metadata address, another port, the runner: refused', async (t) => {
		if (skip) return t.skip(skip);
		assert.match(await allowStack.logs(), /commands' network policy allow:.*: enforced \(seccomp filter and supervisor, (x86_64|aarch64)\)/);
		const listed = [`tcp:${lan.lan}:${lan.port}`, `tcp:${allowGateway}:${host.tcp}`];
		const unlisted = [`tcp:${lan.metadata}:${lan.port}`, `tcp:${allowGateway}:${other.tcp}`, `tcp:127.0.0.1:${containerHttpPort}`];
		const control = await probeInContainer([...listed, ...unlisted], allowStack);
		for (const target of [...listed, ...unlisted]) assert.equal(control.lines.get(target), 'open', `the container's network reaches ${target}: ${[...control.lines]}`);
		const [hostBefore, otherBefore] = [host.connections(), other.connections()];
		assertPolicy(await probeInSandbox([...listed, ...unlisted], allowStack), listed, unlisted);
		assert.equal(host.connections(), hostBefore + 1, 'the listed host service saw the connection');
		assert.equal(other.connections(), otherBefore, 'the unlisted host service saw none');
	});

	test('allow: a UDP datagram to an unlisted address is refused and never arrives', async (t) => {
		if (skip) return t.skip(skip);
		const udp = `udp:${allowGateway}:${other.udp}`;
		const control = await probeInContainer([udp], allowStack);
		assert.equal(control.lines.get(udp), 'sent');
		const deadline = Date.now() + 10_000;
		while (other.datagrams() === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
		assert.ok(other.datagrams() >= 1, "the container's network delivers the datagram");
		const before = other.datagrams();
		const result = await probeInSandbox([udp], allowStack);
		assert.equal(outcomes(result.output).get(udp), 'EACCES', result.output);
		assert.equal(other.datagrams(), before, 'no datagram reached the unlisted service');
	});

	test("an agent narrows the runner's policy (none, a subset) and may not widen it", async (t) => {
		if (skip) return t.skip(skip);
		const listed = `tcp:${lan.lan}:${lan.port}`;
		// none under allow: refused at socket creation (the same target the previous test reached)
		assertAllRefused(await probeInSandbox([listed], allowStack, 'none'), [listed]);
		// a subset: the LAN entry only; the host service the runner's list has is refused for this agent
		const hostTarget = `tcp:${allowGateway}:${host.tcp}`;
		assertPolicy(await probeInSandbox([listed, hostTarget], allowStack, { allow: [`${lan.lan}:${lan.port}`] }), [listed], [hostTarget]);
		// wider: the runner refuses the execution, naming the key to change
		const agent = path.join(allowStack.home.dir, 'wide.json');
		writeFileSync(agent, JSON.stringify({ name: 'wide', instructions: 'x', tools: ['run_command'], network: 'internet' }));
		const run = await allowStack.cli(['run', agent, 'go', '--json'], { timeoutMs: 60_000 });
		assert.notEqual(run.code, 0);
		assert.match(run.stderr + run.stdout, /agent\.network: internet is wider than the runner's policy \(allow:.*\); an agent may only narrow it: widen agentRunner\.sandbox\.network in config\.yaml/);
	});

	test('internet: private, link-local, host, gateway and runner refused; a global address (routed to a namespace of this machine only) reached', async (t) => {
		if (skip) return t.skip(skip);
		assert.match(await internetStack.logs(), /commands' network policy internet: enforced \(seccomp filter and supervisor/);
		const bridge = await defaultBridgeGateway();
		const refused = [
			`tcp:${lan.lan}:${lan.port}`,
			`tcp:${lan.metadata}:${lan.port}`,
			`tcp:${internetGateway}:${host.tcp}`,
			...(bridge ? [`tcp:${bridge}:${host.tcp}`] : []),
			`tcp:127.0.0.1:${containerHttpPort}`,
		];
		const control = await probeInContainer(refused.slice(0, 3), internetStack);
		for (const target of refused.slice(0, 3)) assert.equal(control.lines.get(target), 'open', `the container's network reaches ${target}: ${[...control.lines]}`);
		const publicTarget = `tcp:${lan.publicAddress}:${lan.port}`;
		if (lan.publicRouted !== null) {
			console.log(`# SKIPPED the public destination: ${lan.publicAddress} is not routed into the test's namespace here (${lan.publicRouted})`);
			assertPolicy(await probeInSandbox(refused, internetStack), [], refused);
			return;
		}
		const publicControl = await probeInContainer([publicTarget], internetStack);
		assert.equal(publicControl.lines.get(publicTarget), 'open', `the container's network reaches the namespace's global address: ${[...publicControl.lines]}`);
		assertPolicy(await probeInSandbox([publicTarget, ...refused], internetStack), [publicTarget], refused);
	});
});
