// Figures of issue 10 for the runner's uploads, against the real agent-runner container:
//   8 parallel 49 MiB multipart uploads (the attack that got the runner OOM-killed): status of each,
//   wall time, the runner process's peak RSS (VmHWM), the container's OOMKilled and RestartCount, and
//   whether /readyz still answers. `--image IMAGE` runs it against another image (for example one built
//   from the commit before uploads streamed to disk) for the before/after comparison.
// Run: PATH=node_modules/.bin:$PATH node --import tsx bench/uploads.ts [--image IMAGE] [--parallel N] [--mib M]
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { dockerInspect } from '../test/helpers/docker.js';
import { startFakeLlm } from '../test/helpers/fakeLlm.js';
import { RunnerStack } from '../test/helpers/runnerStack.js';

const { values } = parseArgs({
	options: { image: { type: 'string' }, parallel: { type: 'string', default: '8' }, mib: { type: 'string', default: '49' } },
});
const parallel = Number(values.parallel);
const mib = Number(values.mib);
const boundary = 'stigmer-bench-boundary';

function uploadBody(size: number): Buffer {
	const execution = JSON.stringify({ agent: { name: 'uploader', instructions: 'Answer.' }, input: 'x' });
	return Buffer.concat([
		Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="execution"\r\n\r\n${execution}\r\n`),
		Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.bin"\r\n\r\n`),
		randomBytes(size),
		Buffer.from(`\r\n--${boundary}--\r\n`),
	]);
}

async function post(stack: RunnerStack, body: Buffer): Promise<string> {
	try {
		const response = await fetch(`${stack.baseUrl}/v1/executions`, {
			method: 'POST',
			headers: { authorization: `Bearer ${stack.token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
			body,
			signal: AbortSignal.timeout(300_000),
		});
		await response.arrayBuffer();
		return String(response.status);
	} catch (error) {
		return `error (${(error as Error).cause ? String((error as Error).cause) : (error as Error).message})`;
	}
}

async function main(): Promise<void> {
	const llm = await startFakeLlm({ script: [], host: '127.0.0.1' });
	const stack = await RunnerStack.start({ llmUrl: llm.url, ...(values.image ? { image: values.image } : {}) });
	try {
		await stack.waitReady();
		const body = uploadBody(mib * 1024 * 1024);
		const started = performance.now();
		const statuses = await Promise.all(Array.from({ length: parallel }, () => post(stack, body)));
		const seconds = (performance.now() - started) / 1000;
		const rss = await stack.runnerPeakRss();
		const info = await dockerInspect(stack.containerName);
		const ready = await fetch(`${stack.baseUrl}/readyz`, { signal: AbortSignal.timeout(5000) }).then(
			(r) => String(r.status),
			(e: Error) => `unreachable (${e.message})`,
		);
		console.log(`image:            ${values.image ?? '(this checkout)'}`);
		console.log(`uploads:          ${parallel} x ${mib} MiB in parallel, ${seconds.toFixed(1)} s`);
		console.log(`statuses:         ${statuses.join(' ')}`);
		console.log(`runner peak RSS:  ${rss}`);
		console.log(`container:        running ${info?.State?.Running}, OOMKilled ${info?.State?.OOMKilled}, restarts ${info?.RestartCount}`);
		console.log(`/readyz after:    ${ready}`);
	} finally {
		await stack.dispose();
		await llm.close();
	}
}

await main();
