// The agent-runner's HTTP API against the real container, as hostile clients use it (issue 10):
// parallel large uploads must not take the runner down (no OOM kill, no restart), and every
// malformed request gets a 4xx with a reason and leaves no directory, file or row behind.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { docker, dockerInspect } from '../helpers/docker.js';
import { finalAnswer, startFakeLlm, type FakeLlm } from '../helpers/fakeLlm.js';
import { RunnerStack } from '../helpers/runnerStack.js';

let llm: FakeLlm;
let stack: RunnerStack;

const MiB = 1024 * 1024;
const boundary = 'stigmer-test-boundary';
const execution = JSON.stringify({ agent: { name: 'uploader', instructions: 'Answer.' }, input: 'x' });

type Part = { name: string; filename?: string; data: Buffer | string };

function multipart(parts: Part[], close = true): Buffer {
	const chunks: Buffer[] = [];
	for (const part of parts) {
		const filename = part.filename === undefined ? '' : `; filename="${part.filename}"`;
		chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"${filename}\r\n\r\n`, 'utf8'));
		chunks.push(Buffer.isBuffer(part.data) ? part.data : Buffer.from(part.data, 'utf8'));
		chunks.push(Buffer.from('\r\n'));
	}
	if (close) chunks.push(Buffer.from(`--${boundary}--\r\n`));
	return Buffer.concat(chunks);
}

type Answer = { status: number; headers: Record<string, string | string[] | undefined>; body: any };

/** One request through node:http (header bytes as given, body as given), the JSON answer parsed. */
function send(method: string, pathname: string, body: Buffer | null, headers: Record<string, string> = {}): Promise<Answer> {
	return new Promise((resolve, reject) => {
		const req = request(
			`${stack.baseUrl}${pathname}`,
			{
				method,
				headers: { authorization: `Bearer ${stack.token}`, ...(body ? { 'content-length': String(body.length) } : {}), ...headers },
				timeout: 120_000,
			},
			(res) => {
				const chunks: Buffer[] = [];
				res.on('data', (c: Buffer) => chunks.push(c));
				res.on('end', () => {
					const text = Buffer.concat(chunks).toString('utf8');
					let parsed: any = text;
					try {
						parsed = JSON.parse(text);
					} catch {
						/* SSE or plain text */
					}
					resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
				});
				res.on('error', reject);
			},
		);
		req.on('timeout', () => req.destroy(new Error(`${method} ${pathname} timed out`)));
		req.on('error', reject);
		req.end(body ?? undefined);
	});
}

const postMultipart = (body: Buffer) => send('POST', '/v1/executions', body, { 'content-type': `multipart/form-data; boundary=${boundary}` });
const postJson = (body: Buffer | string) => send('POST', '/v1/executions', Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'), { 'content-type': 'application/json' });

/** Workspace directories (on the host's mount) and stored executions are the same set. */
async function assertNoOrphans(): Promise<void> {
	const directories = readdirSync(stack.home.workspaceDir).sort();
	const listed = await send('GET', '/v1/executions?limit=1000', null);
	assert.equal(listed.status, 200);
	const rows = (listed.body.executions as Array<{ id: string }>).map((e) => e.id).sort();
	assert.deepEqual(directories, rows, 'every workspace directory has its row and nothing is left staged');
}

async function containerState(): Promise<{ running: boolean; oomKilled: boolean; restarts: number }> {
	const info = await dockerInspect(stack.containerName);
	assert.ok(info, 'the container exists');
	return { running: info.State.Running, oomKilled: info.State.OOMKilled, restarts: info.RestartCount };
}

before(async () => {
	llm = await startFakeLlm({ script: [], host: '127.0.0.1' });
	stack = await RunnerStack.start({ llmUrl: llm.url });
	await stack.waitReady();
});

after(async () => {
	await stack?.dispose();
	await llm?.close();
});

describe('agent-runner requests against the real container', () => {
	test('8 parallel 49 MiB uploads: all stored on disk, the runner stays up, 0 OOM kills, 0 restarts', { timeout: 600_000 }, async () => {
		const payload = randomBytes(49 * MiB);
		const body = multipart([
			{ name: 'execution', data: execution },
			{ name: 'files', filename: 'big.bin', data: payload },
		]);
		const started = performance.now();
		const answers = await Promise.all(Array.from({ length: 8 }, () => postMultipart(body)));
		const seconds = (performance.now() - started) / 1000;
		assert.deepEqual(
			answers.map((a) => a.status),
			Array(8).fill(202),
			JSON.stringify(answers.map((a) => a.body)),
		);
		for (const answer of answers) {
			const stored = path.join(stack.home.workspaceDir, answer.body.id, 'big.bin');
			assert.equal(statSync(stored).size, payload.length);
		}
		const state = await containerState();
		assert.deepEqual(state, { running: true, oomKilled: false, restarts: 0 });
		assert.equal((await send('GET', '/readyz', null)).status, 200);
		console.log(`figure: 8 x 49 MiB uploads in ${seconds.toFixed(1)} s; runner ${await stack.runnerPeakRss()}; OOM killed ${state.oomKilled}, restarts ${state.restarts}`);
		await assertNoOrphans();
	});

	test('every malformed request is a 4xx with a reason and leaves nothing behind', { timeout: 120_000 }, async () => {
		const deep = '['.repeat(200_000) + ']'.repeat(200_000);
		const cases: Array<[string, () => Promise<Answer>, number]> = [
			['JSON nested 200,000 deep', () => postJson(deep), 400],
			[
				'a 400-byte UTF-8 file name',
				() =>
					postMultipart(
						multipart([
							{ name: 'execution', data: execution },
							{ name: 'files', filename: 'é'.repeat(200), data: 'x' },
						]),
					),
				422,
			],
			['a lone surrogate in the input', () => postJson('{"agent": {"name": "t"}, "input": "a\\ud800b"}'), 422],
			['limit=²', () => send('GET', `/v1/executions?limit=${encodeURIComponent('²')}`, null), 422],
			['limit out of range', () => send('GET', '/v1/executions?limit=1001', null), 422],
			[
				'multipart without its closing boundary',
				() =>
					postMultipart(
						multipart(
							[
								{ name: 'execution', data: execution },
								{ name: 'files', filename: 'a.txt', data: 'alpha' },
							],
							false,
						),
					),
				400,
			],
			[
				'a file name with a terminal escape',
				() =>
					postMultipart(
						multipart([
							{ name: 'execution', data: execution },
							{ name: 'files', filename: 'a\x1b]0;pwned\x07', data: 'x' },
						]),
					),
				422,
			],
			[
				'an invalid execution after its files',
				() =>
					postMultipart(
						multipart([
							{ name: 'files', filename: 'f.bin', data: randomBytes(MiB) },
							{ name: 'execution', data: '{"agent": {}, "input": "x"}' },
						]),
					),
				422,
			],
			['a JSON document over 4 MiB', () => postJson(JSON.stringify({ agent: { name: 't' }, input: 'x'.repeat(5 * MiB) })), 413],
			['a body over STIGMER_MAX_UPLOAD_BYTES', () => postMultipart(Buffer.alloc(51 * MiB)), 413],
			['an unsupported content type', () => send('POST', '/v1/executions', Buffer.from('hi'), { 'content-type': 'text/plain' }), 415],
		];
		// One execution that exists, for the event-id cases.
		const made = await postJson(execution);
		assert.equal(made.status, 202);
		const events = `/v1/executions/${made.body.id}/events`;
		cases.push(
			['events?after=99999999999999999999999', () => send('GET', `${events}?after=99999999999999999999999`, null), 422],
			['Last-Event-ID: ³', () => send('GET', events, null, { 'last-event-id': '\u00b3' }), 422],
		);
		for (const [name, run, status] of cases) {
			const answer = await run();
			assert.equal(answer.status, status, `${name}: ${JSON.stringify(answer.body)}`);
			assert.equal(typeof answer.body.error, 'string', `${name}: a reason`);
			assert.ok(answer.body.error.length > 0, name);
		}
		assert.deepEqual(await containerState(), { running: true, oomKilled: false, restarts: 0 });
		await assertNoOrphans();
	});

	test('an LLM 429 and 503 are retried; stigmer run shows each retry and succeeds', { timeout: 120_000 }, async () => {
		llm.reset();
		llm.push({ status: 429 }, { status: 503 }, finalAnswer('answered after two retries'));
		const agent = path.join(stack.home.dir, 'agent.yaml');
		writeFileSync(agent, 'name: patient\ninstructions: Answer.\n');
		const result = await stack.cli(['run', agent, 'go']);
		assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
		assert.match(result.stdout, /! LLM 429 Too Many Requests: retry 1 of 4 in \d+\.\d s\n/);
		assert.match(result.stdout, /! LLM 503 Service Unavailable: retry 2 of 4 in \d+\.\d s\n/);
		assert.match(result.stdout, /answered after two retries/);
		assert.equal(llm.requests.length, 3);
	});

	test('the image imports python-multipart under both names', async () => {
		const result = await docker([
			'exec',
			stack.containerName,
			'python3',
			'-c',
			'import multipart, multipart.multipart, python_multipart; assert multipart.MultipartParser is python_multipart.MultipartParser; print(multipart.__version__)',
		]);
		assert.match(result.stdout.trim(), /^\d+\.\d+\.\d+$/);
	});
});
