// What the API forward of a remote engine costs (supervisor/ApiForward.ts: 127.0.0.1:<port> on this
// machine -> an exec'd bridge per connection -> the API in the container). The stack runs in remote mode
// (STIGMER_ENGINE_REMOTE=1 on the engine DOCKER_HOST names, the local one by default), then:
//   - GET /healthz on one keep-alive connection (the bridge is reused: the forward's per-request cost);
//   - a new connection each, 1 s apart (the spare bridge is ready: what a CLI command pays);
//   - a new connection each, back to back (no spare ready: a bridge is exec'd for each, the cold cost);
//   - `stigmer run` -> its first event (CLI start, upload, the first SSE event), the figure, against
//     the same run on a local-mode stack (API published, no bridge) in the same run of the bench.
// Run: node --import tsx bench/apiForward.ts [requests]
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { RunnerStack, waitForOutput } from '../test/helpers/runnerStack.js';
import { percentile } from './benchStats.js';

const remoteEnv = { STIGMER_ENGINE_REMOTE: '1' };
const localEnv = { STIGMER_ENGINE_REMOTE: '0' };
const requests = Number(process.argv[2] ?? 30);

function get(port: number, agent: http.Agent | false): Promise<number> {
	const t = performance.now();
	return new Promise((resolve, reject) => {
		const req = http.get({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => {
			res.resume();
			res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t) : reject(new Error(`status ${res.statusCode}`))));
		});
		req.on('error', reject);
	});
}

const row = (name: string, xs: number[]) => `${name.padEnd(46)} p50 ${percentile(xs, 50).toFixed(1).padStart(6)} ms   p95 ${percentile(xs, 95).toFixed(1).padStart(6)} ms   (${xs.length})`;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
	// the first event comes before the model is called: no LLM is needed (the runs then fail at once),
	// so the bench runs as it is against any engine
	const llmUrl = 'http://127.0.0.1:9/v1';
	process.env.STIGMER_ENGINE_REMOTE = '1';
	const stack = await RunnerStack.start({ llmUrl });
	// the local-mode comparison needs the engine to be this machine's (not so with DOCKER_HOST=ssh://…)
	process.env.STIGMER_ENGINE_REMOTE = '0';
	const local = process.env.DOCKER_HOST ? null : await RunnerStack.start({ llmUrl });
	try {
		const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
		await get(stack.port, keepAlive);
		const kept: number[] = [];
		for (let i = 0; i < requests; i++) kept.push(await get(stack.port, keepAlive));
		keepAlive.destroy();
		const warm: number[] = [];
		for (let i = 0; i < requests; i++) {
			await pause(1000);
			warm.push(await get(stack.port, false));
		}
		const cold: number[] = [];
		for (let i = 0; i < requests; i++) cold.push(await get(stack.port, false));
		const firstEvent = { remote: [] as number[], local: [] as number[] };
		for (let i = 0; i < Math.min(requests, 10); i++) {
			for (const [mode, on, env] of [
				['remote', stack, remoteEnv],
				['local', local, localEnv],
			] as const) {
				if (!on) continue;
				const agent = path.join(on.home.dir, 'agent.yaml');
				writeFileSync(agent, 'name: bench\ninstructions: answer\n');
				await pause(1000);
				const t = performance.now();
				const child = on.spawnCli(['run', agent, 'go'], { env });
				await waitForOutput(child, /· queued|· running/, 30_000);
				firstEvent[mode].push(performance.now() - t);
				await new Promise((r) => child.once('exit', r));
			}
		}
		console.log(`API forward of a remote engine (${process.env.DOCKER_HOST ?? 'local engine, STIGMER_ENGINE_REMOTE=1'}; Node ${process.version})`);
		console.log(row('GET /healthz, one keep-alive connection', kept));
		console.log(row('new connection each, spare bridge ready', warm));
		console.log(row('new connection each, back to back (cold exec)', cold));
		console.log(row('stigmer run -> first event, remote mode', firstEvent.remote));
		if (local) console.log(row('stigmer run -> first event, local mode', firstEvent.local));
	} finally {
		await stack.cli(['server', 'stop', '--volumes', '--timeout', '2'], { env: remoteEnv }).catch(() => undefined);
		await stack.dispose();
		await local?.dispose();
	}
}

main().catch((error) => {
	console.error(error);
	process.exitCode = 1;
});
