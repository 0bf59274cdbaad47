// Figures of issue 2 for the agent-runner image, measured on the local engine:
//   image size; `docker start` → /readyz 200 (median of 10) against a bare `docker run --rm IMAGE true`
//   and split: the engine's floor, `docker start -a` → the first byte of `sh -c 'echo'`, in a container
//   made with stigmer's HostConfig (the runner's: own bridge network, mounts, init, capabilities,
//   no-new-privileges, read-only root, tmpfs, limits, port) and in a default one (what our HostConfig
//   costs the engine); ours after the floor; the phases in the container from the service's `ready`
//   line (startup.py: the launcher's process start → its imports → the fork → the service's imports →
//   listening) and the CPU spent on the way to ready (the launcher's before the fork + the service's): on
//   a shared machine it swells less than the wall times do;
//   a Python runner's floors, `docker start` → /readyz 200 in a container with our HostConfig: asyncio's own
//   server alone, and uvicorn + Starlette with one route (pythonFloors): the least a runner on them takes here;
//   idle memory; GET /v1/executions/{id} p50/p99 with 50 concurrent clients for 10 s (loopback);
//   rebuild time after a Python source change and whether the dependency layer was reused.
// Run: node --import tsx bench/agent-runner-image.ts   (npm's node_modules/.bin first on PATH for Node 24)
//   [--only size,rebuild,start,memory,load] [--image IMG: an image already in the engine, not built;
//   `--image stack`: the one stigmer runs from this checkout, as config.yaml's default names it]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { imageSourceHash } from '../source/buildContext.js';
import { containerPaths, imageRepository, imageTag, imageUser } from '../source/contract.js';
import { docker, dockerBuild, dockerInspect, dockerLogs, dockerRunDetached, removeContainersByLabel, runnerUserFlags, waitForHttp } from '../test/helpers/docker.js';
import { median, percentile } from './benchStats.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const version = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version as string;
const runId = randomBytes(4).toString('hex');
const runLabel = `ai.stigmer.bench-run=${runId}`;
const token = randomBytes(16).toString('hex');
const asRoot = process.getuid?.() === 0;
const startRuns = 10;
const loadClients = 50;
const loadSeconds = 10;
const loadMaxRequests = 2_000_000;

const ms = (value: number) => `${value.toFixed(1)} ms`;
const seconds = (value: number) => `${(value / 1000).toFixed(2)} s`;

function home() {
	const dir = mkdtempSync(join(tmpdir(), 'stigmer-bench-'));
	const paths = { dir, workspace: join(dir, 'workspace'), data: join(dir, 'data'), secrets: join(dir, 'secrets') };
	mkdirSync(paths.workspace);
	mkdirSync(paths.data);
	mkdirSync(paths.secrets, { mode: 0o700 });
	const tokenFile = join(paths.secrets, 'api-token');
	writeFileSync(tokenFile, token, { mode: 0o600 });
	if (asRoot) for (const p of [paths.workspace, paths.data, paths.secrets, tokenFile]) chownSync(p, imageUser.uid, imageUser.gid);
	return { ...paths, tokenFile };
}

async function freePort(): Promise<number> {
	const server = createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	await new Promise((resolve) => server.close(resolve));
	return port;
}

/** The engine is Podman (its docker API names its components so). */
async function enginePodman(): Promise<boolean> {
	return /podman/i.test((await docker(['version', '--format', '{{range .Server.Components}}{{.Name}} {{end}}'], { allowFailure: true })).stdout);
}

/** The runner's HostConfig as planContainer (source/agentRunner/ContainerService.ts) makes it on a local Linux engine. */
function runFlags(h: ReturnType<typeof home>, port: number, net: { network: string; podman: boolean }): string[] {
	return [
		'--label',
		runLabel,
		'--network',
		net.network,
		// Podman names the host itself and before 4.7 refuses host-gateway (network.ts)
		...(net.podman ? [] : ['--add-host', 'host.docker.internal:host-gateway']),
		'--init',
		'--read-only',
		'--tmpfs',
		'/tmp:rw,nosuid,nodev,size=256m',
		'--cap-drop',
		'ALL',
		...runnerUserFlags(),
		'--security-opt',
		'no-new-privileges',
		'--memory',
		'1g',
		'--memory-swap',
		'1g',
		'--cpus',
		'2',
		'--pids-limit',
		'512',
		'--restart',
		'on-failure:5',
		'--log-driver',
		'json-file',
		'--log-opt',
		'max-size=10m',
		'--log-opt',
		'max-file=3',
		'-v',
		`${h.workspace}:${containerPaths.workspace}`,
		'-v',
		`${h.data}:${containerPaths.data}`,
		'-v',
		`${h.tokenFile}:${containerPaths.apiToken}:ro`,
		'-p',
		`127.0.0.1:${port}:7480`,
	];
}

async function buildTimed(context: string, extra: string[] = []): Promise<{ ms: number; output: string; id: string }> {
	const iid = join(mkdtempSync(join(tmpdir(), 'stigmer-iid-')), 'iid');
	const started = performance.now();
	const output = await dockerBuild(['-f', join(context, 'docker/Dockerfile'), '--build-arg', `STIGMER_VERSION=${version}`, '--iidfile', iid, ...extra, context], { timeoutMs: 900_000 });
	const took = performance.now() - started;
	const id = readFileSync(iid, 'utf8').trim();
	rmSync(join(iid, '..'), { recursive: true, force: true });
	return { ms: took, output, id };
}

/** Whether the classic builder's (or BuildKit's) output shows the apt-get layer taken from cache. */
function aptLayerCached(output: string): boolean {
	const lines = output.split('\n');
	const step = lines.findIndex((line) => /Step \d+\/\d+ : RUN .*apt-get update/.test(line));
	if (step >= 0) return /Using cache/.test(lines[step + 1] ?? '');
	return /CACHED .*apt-get update/.test(output);
}

// `--only start,memory,load,size,rebuild` measures a subset (all by default).
const only = (() => {
	const index = process.argv.indexOf('--only');
	return index >= 0 ? new Set((process.argv[index + 1] ?? '').split(',')) : null;
})();
const wanted = (part: string) => only === null || only.has(part);

type Figures = Record<string, string>;

async function measureRebuild(image: string, figures: Figures, tidy: string[]): Promise<void> {
	// In a copy of the build context: the checkout that others work in is left alone.
	const context = mkdtempSync(join(tmpdir(), 'stigmer-bench-ctx-'));
	tidy.push(context);
	for (const part of ['agent-runner', 'docker', '.dockerignore']) {
		cpSync(join(repoRoot, part), join(context, part), {
			recursive: true,
			filter: (src) => !src.includes('__pycache__') && !src.includes('.pytest_cache'),
		});
	}
	await buildTimed(context, ['--target', 'runtime']);
	appendFileSync(join(context, 'agent-runner/stigmer_agent_runner/engine.py'), `\n# bench edit ${runId}\n`);
	const runtimeOnly = await buildTimed(context, ['--target', 'runtime']);
	appendFileSync(join(context, 'agent-runner/stigmer_agent_runner/tools.py'), `\n# bench edit ${runId}\n`);
	const full = await buildTimed(context);
	figures['rebuild after a Python change'] =
		`${seconds(runtimeOnly.ms)} (--target runtime), ${seconds(full.ms)} (default target; the classic builder also runs the test stage); ` +
		`dependency layer reused: ${aptLayerCached(runtimeOnly.output) && aptLayerCached(full.output) ? 'yes' : 'NO'}`;
	for (const id of [runtimeOnly.id, full.id]) if (id !== image) await docker(['rmi', id], { allowFailure: true });
}

/** `docker start -a NAME` → the first byte the container's process writes (its stdout, through the engine). */
function firstByte(name: string): Promise<number> {
	return new Promise((resolve, reject) => {
		const started = performance.now();
		const child = spawn('docker', ['start', '-a', name], { stdio: ['ignore', 'pipe', 'pipe'] });
		let took: number | undefined;
		let stderr = '';
		const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
		child.stdout.once('data', () => {
			took = performance.now() - started;
		});
		child.stderr.on('data', (chunk) => {
			stderr += chunk;
		});
		child.on('close', (code) => {
			clearTimeout(timer);
			if (took !== undefined) resolve(took);
			else reject(new Error(`docker start -a ${name} wrote nothing (exit ${code}): ${stderr.trim()}`));
		});
	});
}

/**
 * What a Python runner takes at least in our container (`python3 -c`, made with our HostConfig, started
 * as the runner is, → /readyz 200): asyncio's own server (uvicorn serves on asyncio: the floor of any
 * runner on it), then uvicorn and Starlette with one route (the floor of ours, without our code).
 */
const pythonFloors: Record<string, string> = {
	'asyncio alone': [
		'import asyncio',
		'async def answer(reader, writer):',
		'    await reader.readuntil(b"\\r\\n\\r\\n")',
		'    writer.write(b"HTTP/1.1 200 OK\\r\\ncontent-length: 0\\r\\nconnection: close\\r\\n\\r\\n")',
		'    await writer.drain()',
		'    writer.close()',
		'async def main():',
		'    await (await asyncio.start_server(answer, "0.0.0.0", 7480)).serve_forever()',
		'asyncio.run(main())',
	].join('\n'),
	'uvicorn + Starlette, one route': [
		'import uvicorn',
		'from starlette.applications import Starlette',
		'from starlette.responses import PlainTextResponse',
		'from starlette.routing import Route',
		'async def ready(request):',
		'    return PlainTextResponse("ready")',
		'app = Starlette(routes=[Route("/readyz", ready)])',
		'uvicorn.run(app, host="0.0.0.0", port=7480, log_config=None, access_log=False, http="h11", ws="none", lifespan="off")',
	].join('\n'),
};

/** `docker start` → /readyz 200 of a created container. */
async function startToReady(name: string, port: number): Promise<number> {
	const started = performance.now();
	await docker(['start', name]);
	await waitForHttp(`http://127.0.0.1:${port}/readyz`, { timeoutMs: 30_000, intervalMs: 10 });
	return performance.now() - started;
}

/** The service's `ready` line (startup.py): ms from the launcher's process start to each phase, and the CPU. */
const readyLine = /ready (\d+) ms after the process started \(imported at (\d+) ms, forked at (\d+) ms, service imported at (\d+) ms, listening at (\d+) ms, (\d+) ms of CPU\)/;
const phaseNames = ['launcher imported', 'forked', 'service imported', 'listening', 'ready'] as const;

async function measureStart(image: string, figures: Figures, tidy: string[], net: { network: string; podman: boolean }): Promise<void> {
	const starts: number[] = [];
	const bare: number[] = [];
	const floor: number[] = [];
	const floorDefault: number[] = [];
	const pythonFloor = new Map<string, number[]>(Object.keys(pythonFloors).map((name) => [name, []]));
	const cpuToReady: number[] = [];
	const phases = new Map<string, number[]>(phaseNames.map((name) => [name, []]));
	for (let i = 0; i < startRuns; i += 1) {
		const h = home();
		tidy.push(h.dir);
		const name = `stigmer-bench-${runId}-${i}`;
		const port = await freePort();
		await docker(['create', '--name', name, ...runFlags(h, port, net), image]);
		starts.push(await startToReady(name, port));
		const log = await dockerLogs(name);
		const ready = readyLine.exec(log);
		const forked = /the service started after (\d+) ms of CPU/.exec(log);
		// an image before startup.py (the reference, main's): total and CPU only
		const older = ready ? null : /ready (\d+) ms after the process started \((\d+) ms of CPU\)/.exec(log);
		if (older && forked) {
			phases.get('ready')!.push(Number(older[1]));
			cpuToReady.push(Number(forked[1]) + Number(older[2]));
		}
		if (ready) {
			const [, total, imported, fork, serviceImported, listening] = ready.map(Number);
			for (const [phase, value] of [
				['launcher imported', imported],
				['forked', fork],
				['service imported', serviceImported],
				['listening', listening],
				['ready', total],
			] as const)
				phases.get(phase)!.push(value!);
			if (forked) cpuToReady.push(Number(forked[1]) + Number(ready[6]));
		}
		await docker(['rm', '-f', name]);

		const bareStarted = performance.now();
		await docker(['run', '--rm', '--label', runLabel, image, 'true']);
		bare.push(performance.now() - bareStarted);

		// the floors: a trivial process in a container made with our HostConfig, and in a default one
		const floorName = `${name}-floor`;
		await docker(['create', '--name', floorName, ...runFlags(h, await freePort(), net), '--entrypoint', 'sh', image, '-c', 'echo started']);
		floor.push(await firstByte(floorName));
		await docker(['rm', '-f', floorName]);
		await docker(['create', '--name', floorName, '--label', runLabel, '--entrypoint', 'sh', image, '-c', 'echo started']);
		floorDefault.push(await firstByte(floorName));
		await docker(['rm', '-f', floorName]);
		for (const [floorOf, code] of Object.entries(pythonFloors)) {
			const floorPort = await freePort();
			await docker(['create', '--name', floorName, ...runFlags(h, floorPort, net), '--entrypoint', 'python3', image, '-P', '-s', '-c', code]);
			pythonFloor.get(floorOf)!.push(await startToReady(floorName, floorPort));
			await docker(['rm', '-f', floorName]);
		}
	}
	const ratio = median(starts) / median(bare);
	figures['docker start → /readyz 200'] =
		`median ${seconds(median(starts))} (min ${seconds(Math.min(...starts))}, max ${seconds(Math.max(...starts))}); ` +
		`bare docker run --rm IMAGE true median ${seconds(median(bare))}; ratio ${ratio.toFixed(2)}  goal ≤ 0.5 s and ≤ 1.5×`;
	figures["engine's floor: docker start -a → first byte of sh"] =
		`our HostConfig median ${seconds(median(floor))} (min ${seconds(Math.min(...floor))}); default container ${seconds(median(floorDefault))} ` +
		`(min ${seconds(Math.min(...floorDefault))}); our HostConfig costs the engine ${ms(median(floor) - median(floorDefault))}`;
	figures["a Python runner's floor, docker start → /readyz 200"] = [...pythonFloor].map(([floorOf, times]) => `${floorOf} ${seconds(median(times))} (min ${seconds(Math.min(...times))})`).join('; ');
	figures['ours: /readyz 200 after the floor'] = seconds(median(starts) - median(floor));
	figures['in the container, from the launcher process start (medians)'] = phases.get('forked')!.length
		? phaseNames.map((phase) => `${phase} ${ms(median(phases.get(phase)!))}`).join(', ')
		: phases.get('ready')!.length
			? `ready ${ms(median(phases.get('ready')!))} after the service's process started (an image before startup.py: no phases)`
			: 'not in the log (an image older than this bench)';
	figures['CPU on the way to ready (launcher before the fork + service until ready)'] = cpuToReady.length
		? `median ${ms(median(cpuToReady))} (min ${ms(Math.min(...cpuToReady))}; swells less than wall time under others' load)`
		: 'not in the log (an image older than this bench)';
	figures['load average after the start runs'] = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

async function measureIdleAndLoad(image: string, figures: Figures, tidy: string[], net: { network: string; podman: boolean }): Promise<void> {
	const h = home();
	tidy.push(h.dir);
	const name = `stigmer-bench-${runId}-load`;
	const port = await freePort();
	await dockerRunDetached(['--name', name, ...runFlags(h, port, net), '-e', 'STIGMER_LLM_BASE_URL=http://127.0.0.1:9/v1', image]);
	const base = `http://127.0.0.1:${port}`;
	await waitForHttp(`${base}/readyz`, { timeoutMs: 30_000 });
	const auth = { authorization: `Bearer ${token}` };
	const created = await fetch(`${base}/v1/executions`, {
		method: 'POST',
		headers: { ...auth, 'content-type': 'application/json' },
		body: JSON.stringify({ agent: { name: 'bench', instructions: 'x' }, input: 'x' }),
	});
	const { id } = (await created.json()) as { id: string };
	const memory = async () => (JSON.parse((await docker(['stats', '--no-stream', '--format', '{{json .}}', name])).stdout) as { MemUsage: string }).MemUsage.split('/')[0]!.trim();
	await new Promise((resolve) => setTimeout(resolve, 5000));
	figures['idle memory'] = `${await memory()} (docker stats, 5 s after an execution)  goal ≤ 45 MiB`;

	const latencies: number[] = [];
	let errors = 0;
	const deadline = performance.now() + loadSeconds * 1000;
	const client = async () => {
		while (performance.now() < deadline && latencies.length + errors < loadMaxRequests) {
			const started = performance.now();
			try {
				const response = await fetch(`${base}/v1/executions/${id}`, { headers: auth, signal: AbortSignal.timeout(5000) });
				await response.arrayBuffer();
				if (response.status === 200) latencies.push(performance.now() - started);
				else errors += 1;
			} catch {
				errors += 1;
			}
		}
	};
	await Promise.all(Array.from({ length: loadClients }, client));
	figures[`GET execution, ${loadClients} clients, ${loadSeconds} s`] =
		`p50 ${ms(percentile(latencies, 50))}, p99 ${ms(percentile(latencies, 99))}, ` + `${latencies.length} requests (${(latencies.length / loadSeconds).toFixed(0)}/s), ${errors} errors`;
	figures['memory after the load'] = await memory();
}

/** built by the docker CLI, so under a tag of its own (stigmer's tag names an image built from its sources, with their hash) */
const benchTag = `${imageRepository}:${version}-bench`;

async function main(): Promise<void> {
	const figures: Figures = {};
	const tidy: string[] = [];
	const networks: string[] = [];
	try {
		// --image IMG: measure an image already in the engine (one copied to Podman or docker in docker), no build
		const given = process.argv.indexOf('--image');
		const named = given >= 0 ? process.argv[given + 1]! : null;
		const image = named === 'stack' ? imageTag(version, imageSourceHash(repoRoot)) : (named ?? (await buildTimed(repoRoot, ['-t', benchTag])).id);
		if (wanted('size')) {
			const size = (await dockerInspect(image, 'image')).Size as number;
			figures['image size'] = `${(size / 1e6).toFixed(1)} MB (${(size / 2 ** 20).toFixed(1)} MiB)  goal ≤ 140 MB`;
		}
		if (wanted('rebuild')) await measureRebuild(image, figures, tidy);
		// the runner's own bridge network, as on a local Linux engine (source/agentRunner/network.ts)
		const net = { network: `stigmer-bench-${runId}`, podman: await enginePodman() };
		await docker(['network', 'create', '--label', runLabel, net.network]);
		networks.push(net.network);
		if (wanted('start')) await measureStart(image, figures, tidy, net);
		if (wanted('memory') || wanted('load')) await measureIdleAndLoad(image, figures, tidy, net);
	} finally {
		await removeContainersByLabel(runLabel);
		for (const network of networks) await docker(['network', 'rm', network], { allowFailure: true });
		for (const dir of tidy) rmSync(dir, { recursive: true, force: true });
	}
	const width = Math.max(...Object.keys(figures).map((k) => k.length));
	console.log(`agent-runner image ${benchTag} — engine ${(await docker(['version', '--format', '{{.Server.Version}}'])).stdout.trim()}`);
	for (const [key, value] of Object.entries(figures)) console.log(`${key.padEnd(width)}  ${value}`);
}

await main();
