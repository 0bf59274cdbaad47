import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { containerEnv, containerPaths, imageTag, serviceUser } from '../source/contract.js';
import { imageSourceHash } from '../source/buildContext.js';
import { docker, dockerRunDetached, runnerUserFlags, waitForHttp } from '../test/helpers/docker.js';
import { finalAnswer, startFakeLlm, toolCall, type FakeLlm } from '../test/helpers/fakeLlm.js';
import { RunnerStack, freePort } from '../test/helpers/runnerStack.js';
import { packageVersion } from '../source/version.js';
import { imageBefore } from './baselineImage.js';
import { commandDurations } from './commandDurations.js';
import { median, percentile } from './benchStats.js';

const commands = 30;
const rounds = 3;
const concurrent = 20;

const unsandboxed = `
import asyncio, json, time
async def main():
    out = []
    for _ in range(${commands}):
        t = time.monotonic()
        p = await asyncio.create_subprocess_exec("sh", "-c", "true", cwd="/tmp", stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, start_new_session=True)
        await p.communicate()
        out.append((time.monotonic() - t) * 1000)
    print(json.dumps(out))
asyncio.run(main())
`;

const llm = await startFakeLlm({ script: [], host: '127.0.0.1' });
const stack = await RunnerStack.start({ llmUrl: llm.url, maxConcurrency: 4 });
try {
	const agent = path.join(stack.home.dir, 'agent.json');
	writeFileSync(agent, JSON.stringify({ name: 'bench', instructions: 'x', tools: ['run_command'], max_steps: 100 }));
	const p50s: number[] = [],
		p95s: number[] = [],
		oldP50s: number[] = [],
		oldP95s: number[] = [];
	for (let round = 0; round < rounds; round++) {
		const durations = await commandDurations(stack, llm, 'true', commands);
		p50s.push(percentile(durations, 50));
		p95s.push(percentile(durations, 95));
		const old = JSON.parse((await docker(['exec', '-u', '10001', stack.containerName, 'python3', '-c', unsandboxed])).stdout) as number[];
		oldP50s.push(percentile(old, 50));
		oldP95s.push(percentile(old, 95));
	}
	console.log(
		`run_command true (${commands} per run, median of ${rounds} runs): sandboxed p50 ${median(p50s)} ms, p95 ${median(p95s)} ms; unsandboxed p50 ${median(oldP50s).toFixed(1)} ms, p95 ${median(oldP95s).toFixed(1)} ms; added p50 ${(median(p50s) - median(oldP50s)).toFixed(1)} ms, p95 ${(median(p95s) - median(oldP95s)).toFixed(1)} ms`,
	);

	llm.reset();
	const started = Date.now();
	const runs = await Promise.all(
		Array.from({ length: concurrent }, () => {
			llm.push(toolCall('run_command', { command: 'echo hi' }));
			return stack.cli(['run', agent, 'go', '--json'], { timeoutMs: 300_000 });
		}),
	);
	const ok = runs.filter((r) => r.code === 0).length;
	console.log(`${concurrent} concurrent executions each running a command (max concurrency 4): ${ok}/${concurrent} succeeded in ${((Date.now() - started) / 1000).toFixed(1)} s`);

	const idle: number[] = [];
	for (let i = 0; i < 3; i++) {
		const usage = (await docker(['stats', '--no-stream', '--format', '{{.MemUsage}}', stack.containerName])).stdout.split('/')[0]!.trim();
		idle.push(Number.parseFloat(usage) * (usage.endsWith('GiB') ? 1024 : usage.endsWith('KiB') ? 1 / 1024 : 1));
	}
	console.log(`runner idle memory: ${median(idle).toFixed(1)} MiB (docker stats, median of 3)`);

	llm.reset();
	llm.push(toolCall('run_command', { command: 'yes | head -c 734003200', timeout_seconds: 600 }), finalAnswer('done'));
	const flood = await stack.cli(['run', agent, 'go', '--json'], { timeoutMs: 600_000 });
	const [inspect] = JSON.parse((await docker(['inspect', stack.containerName])).stdout);
	const duration = flood.stdout
		.trim()
		.split('\n')
		.map((l) => JSON.parse(l))
		.find((e) => e.type === 'tool_result')?.data.duration_ms;
	console.log(`after 700 MB of output (${duration} ms): running ${inspect.State.Running}, OOMKilled ${inspect.State.OOMKilled}, restarts ${inspect.RestartCount}, exit ${flood.code}`);
} finally {
	await stack.dispose();
}

/** `docker run` of `image` on the host network with `flags`; 20 concurrent executions through the API. */
async function concurrentDirect(fake: FakeLlm, image: string, flags: string[]): Promise<{ ok: number; seconds: number }> {
	const dir = mkdtempSync(path.join(tmpdir(), 'stigmer-bench-sandbox-'));
	const token = randomBytes(16).toString('hex');
	const workspace = path.join(dir, 'workspace');
	const data = path.join(dir, 'data');
	const tokenFile = path.join(dir, 'api-token');
	mkdirSync(workspace);
	mkdirSync(data);
	writeFileSync(tokenFile, token, { mode: 0o600 });
	const service = serviceUser();
	for (const p of [workspace, data, tokenFile]) chownSync(p, service.uid, service.gid);
	const port = await freePort();
	const name = `stigmer-bench-sandbox-${randomBytes(4).toString('hex')}`;
	try {
		await dockerRunDetached([
			'--name',
			name,
			'--init',
			'--read-only',
			'--tmpfs',
			'/tmp',
			'--cap-drop',
			'ALL',
			'--security-opt',
			'no-new-privileges',
			'--memory',
			'1g',
			'--cpus',
			'2',
			'--network',
			'host',
			...flags,
			'-v',
			`${workspace}:${containerPaths.workspace}`,
			'-v',
			`${data}:${containerPaths.data}`,
			'-v',
			`${tokenFile}:${containerPaths.apiToken}:ro`,
			'-e',
			`${containerEnv.httpHost}=127.0.0.1`,
			'-e',
			`${containerEnv.httpPort}=${port}`,
			'-e',
			`${containerEnv.llmBaseUrl}=${fake.url}`,
			'-e',
			`${containerEnv.llmModel}=fake-model`,
			'-e',
			`${containerEnv.maxConcurrency}=4`,
			image,
		]);
		const base = `http://127.0.0.1:${port}`;
		await waitForHttp(`${base}/readyz`, { timeoutMs: 60_000 });
		const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
		fake.reset();
		for (let i = 0; i < concurrent; i++) fake.push(toolCall('run_command', { command: 'echo hi' }));
		const started = Date.now();
		const ids = await Promise.all(
			Array.from({ length: concurrent }, async () => {
				const r = await fetch(`${base}/v1/executions`, { method: 'POST', headers, body: JSON.stringify({ agent: { name: 'bench', instructions: 'x', tools: ['run_command'] }, input: 'go' }) });
				return ((await r.json()) as { id: string }).id;
			}),
		);
		const statuses = await Promise.all(
			ids.map(async (id) => {
				for (let i = 0; i < 3000; i++) {
					const e = (await (await fetch(`${base}/v1/executions/${id}`, { headers })).json()) as { status: string };
					if (!['queued', 'running'].includes(e.status)) return e.status;
					await new Promise((r) => setTimeout(r, 50));
				}
				return 'timeout';
			}),
		);
		return { ok: statuses.filter((s) => s === 'succeeded').length, seconds: (Date.now() - started) / 1000 };
	} finally {
		await docker(['rm', '-f', name], { allowFailure: true });
		rmSync(dir, { recursive: true, force: true });
	}
}

try {
	const service = serviceUser();
	const sandboxed = runnerUserFlags();
	const before = ['--user', `${service.uid}:${service.gid}`]; // as stigmer ran it: the service's user, no capability
	const baseline = await imageBefore('agent-runner/stigmer_agent_runner/sandbox_launcher.py');
	const now: number[] = [],
		then: number[] = [];
	let ok = 0;
	for (let round = 0; round < rounds; round++) {
		const a = await concurrentDirect(llm, imageTag(packageVersion, imageSourceHash()), sandboxed);
		const b = await concurrentDirect(llm, baseline, before);
		now.push(a.seconds);
		then.push(b.seconds);
		ok += a.ok + b.ok;
	}
	console.log(
		`${concurrent} concurrent executions with a command, HTTP API, max concurrency 4 (median of ${rounds} rounds): ` +
			`sandboxed ${median(now).toFixed(2)} s, before the sandbox ${median(then).toFixed(2)} s (ratio ${(median(now) / median(then)).toFixed(2)}); ` +
			`${ok}/${2 * rounds * concurrent} succeeded`,
	);
} finally {
	await llm.close();
}
