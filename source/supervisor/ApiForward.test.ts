import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StdioFrames, bridgeFailure } from './ApiForward.ts';
import { httpAnswerStart } from './refuseHttp.ts';

function frame(kind: number, text: string): Buffer {
	const payload = Buffer.from(text);
	const header = Buffer.alloc(8);
	header[0] = kind;
	header.writeUInt32BE(payload.length, 4);
	return Buffer.concat([header, payload]);
}

test('the exec stream is cut back into stdout and stderr, whatever the chunking', () => {
	const stream = Buffer.concat([frame(1, 'HTTP/1.1 200 OK\r\n'), frame(2, 'a warning\n'), frame(1, ''), frame(1, 'body')]);
	for (let size = 1; size <= stream.length; size++) {
		const frames = new StdioFrames();
		const out: string[] = [];
		const err: string[] = [];
		for (let i = 0; i < stream.length; i += size) {
			for (const [kind, bytes] of frames.push(stream.subarray(i, i + size))) (kind === 1 ? out : err).push(bytes.toString());
		}
		assert.equal(out.join(''), 'HTTP/1.1 200 OK\r\nbody', `chunks of ${size}`);
		assert.equal(err.join(''), 'a warning\n');
	}
});

test('no bridge: the container gone or stopped reads as "not running", anything else names the engine', () => {
	const engine = (statusCode: number, message: string) => Object.assign(new Error(`(HTTP code ${statusCode}) - ${message}`), { statusCode, json: { message } });
	assert.equal(bridgeFailure(engine(404, 'No such container: c'), 'c'), 'not running: its container c does not exist (start it with `stigmer server start`)');
	assert.equal(bridgeFailure(engine(409, 'Container c is not running'), 'c'), 'not running: its container c is stopped (start it with `stigmer server start`)');
	assert.equal(bridgeFailure(engine(500, 'OCI runtime exec failed'), 'c'), 'not reachable through the container engine: the exec of its API bridge failed (OCI runtime exec failed)');
	assert.match(bridgeFailure(Object.assign(new Error('connect ECONNREFUSED /var/run/docker.sock'), { code: 'ECONNREFUSED' }), 'c'), /exec of its API bridge failed \(connect ECONNREFUSED/);
});

test("a bridge's first bytes: an HTTP answer, or the engine's own error written as stdout (not passed on)", () => {
	assert.equal(httpAnswerStart(Buffer.from('HTTP/1.1 200 OK\r\n')), 'yes');
	assert.equal(httpAnswerStart(Buffer.from('HTTP/')), 'yes');
	// cut anywhere in the first five bytes: wait for more
	for (const part of ['', 'H', 'HT', 'HTT', 'HTTP']) assert.equal(httpAnswerStart(Buffer.from(part)), 'wait', part);
	// Docker writes an exec that failed after its hijack as a stdout frame (the container went meanwhile)
	assert.equal(httpAnswerStart(Buffer.from('OCI runtime exec failed: exec failed: cannot exec in a stopped container: unknown\r\n')), 'no');
	assert.equal(httpAnswerStart(Buffer.from('Container 1a2b is not running\r\n')), 'no');
	assert.equal(httpAnswerStart(Buffer.from('HTX')), 'no');
});
