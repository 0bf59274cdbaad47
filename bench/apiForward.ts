// What the API forward of a remote engine costs (supervisor/ApiForward.ts: 127.0.0.1:<port> on this
// machine -> an exec'd bridge per connection -> the API in the container). The stack runs in remote mode
// (STIGMER_ENGINE_REMOTE=1 on the engine DOCKER_HOST names, the local one by default), then:
//   - GET /healthz on one keep-alive connection (the bridge is reused: the forward's per-request cost);
//   - a new connection each, 300 ms apart (the spare bridge is ready: what a CLI command pays);
//   - a new connection each, back to back (no spare ready: a bridge is exec'd for each, the cold cost);
//   - `stigmer run` -> its first event (CLI start, upload, the first SSE event), the figure.
// Run: node --import tsx bench/apiForward.ts [requests]
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startBridgeLlm } from '../test/helpers/bridgeLlm.js';
import { finalAnswer } from '../test/helpers/fakeLlm.js';
import { RunnerStack, waitForOutput } from '../test/helpers/runnerStack.js';

process.env.STIGMER_ENGINE_REMOTE = '1';
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

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const row = (name: string, xs: number[]) => `${name.padEnd(46)} p50 ${percentile(xs, 50).toFixed(1).padStart(6)} ms   p95 ${percentile(xs, 95).toFixed(1).padStart(6)} ms   (${xs.length})`;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
	const llm = await startBridgeLlm({ script: [], whenExhausted: finalAnswer('ok') });
	const stack = await RunnerStack.start({ llmUrl: llm.url });
	try {
		const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
		await get(stack.port, keepAlive);
		const kept: number[] = [];
		for (let i = 0; i < requests; i++) kept.push(await get(stack.port, keepAlive));
		keepAlive.destroy();
		const warm: number[] = [];
		for (let i = 0; i < requests; i++) {
			await pause(300);
			warm.push(await get(stack.port, false));
		}
		const cold: number[] = [];
		for (let i = 0; i < requests; i++) cold.push(await get(stack.port, false));
		const agent = path.join(stack.home.dir, 'agent.yaml');
		writeFileSync(agent, 'name: bench\ninstructions: answer\n');
		const firstEvent: number[] = [];
		for (let i = 0; i < Math.min(requests, 10); i++) {
			await pause(300);
			const t = performance.now();
			const child = stack.spawnCli(['run', agent, 'go']);
			await waitForOutput(child, /· queued|· running/, 30_000);
			firstEvent.push(performance.now() - t);
			await new Promise((r) => child.once('exit', r));
		}
		console.log(`API forward of a remote engine (${process.env.DOCKER_HOST ?? 'local engine, STIGMER_ENGINE_REMOTE=1'}; Node ${process.version})`);
		console.log(row('GET /healthz, one keep-alive connection', kept));
		console.log(row('new connection each, spare bridge ready', warm));
		console.log(row('new connection each, back to back (cold exec)', cold));
		console.log(row('stigmer run -> first event', firstEvent));
	} finally {
		await stack.cli(['server', 'stop', '--volumes', '--timeout', '2']).catch(() => undefined);
		await stack.dispose();
		await llm.close();
	}
}

main().catch((error) => {
	console.error(error);
	process.exitCode = 1;
});
