import assert from 'node:assert/strict';
import { test } from 'node:test';
import { engineRefusal, engineRefusalText } from '../../source/engine/engineRefusals.ts';
import { UserError } from '../../source/errors.ts';
import { reportError } from '../../source/main.ts';

// Podman 4.3 without catatonit, answering POST /containers/create for a container with Init: true
const podmanNoInit = 'container create: container-init binary not found on the host: stat /usr/libexec/podman/catatonit: no such file or directory';

/** A failed dockerode call, as dockerode rejects with it. */
function engineError(statusCode: number, message: string): Error {
	return Object.assign(new Error(`(HTTP code ${statusCode}) server error - ${message} `), { statusCode, json: { message } });
}

function captured(error: unknown): { code: number; text: string } {
	let text = '';
	const stderr = {
		write: (chunk: string) => {
			text += chunk;
			return true;
		},
	} as unknown as NodeJS.WriteStream;
	return { code: reportError(error, stderr), text };
}

test("Podman's missing catatonit is reported with the fix, not as a bug in stigmer", () => {
	const { code, text } = captured(engineError(500, podmanNoInit));
	assert.equal(code, 1);
	assert.match(text, /Podman needs catatonit/);
	assert.match(text, /apt-get install catatonit/);
	assert.match(text, /container-init binary not found/, "the engine's own words are kept");
	assert.doesNotMatch(text, /bug in stigmer/);
});

test('a dockerode error (statusCode, json.message) is recognised the same way', () => {
	const error = Object.assign(new Error(`(HTTP code 500) server error - ${podmanNoInit}`), { statusCode: 500, json: { message: podmanNoInit } });
	const refusal = engineRefusal(error)!;
	assert.ok(refusal instanceof UserError);
	assert.match(refusal.message, /^the engine cannot run a container with --init/);
	assert.match(refusal.message, /said: container create: container-init/);
	assert.match(engineRefusalText(error)!, / — fix: install it: sudo apt-get install catatonit/);
});

test('rlimits, the API floor, a full disk and a taken port have their fixes', () => {
	const fix = (message: string) => engineRefusal(engineError(500, message))!.hint!;
	assert.match(fix('crun: error setting rlimit type 7: Operation not permitted: OCI permission denied'), /default_ulimits/);
	assert.match(fix('client version 1.41 is too old. Minimum supported API version is 1.44, please upgrade your client to a newer version'), /DOCKER_MIN_API_VERSION/);
	assert.match(fix('write /var/lib/docker/tmp/x: no space left on device'), /prune/);
	assert.match(fix('driver failed programming external connectivity: Bind for 127.0.0.1:7480 failed: port is already allocated'), /agentRunner\.port/);
});

test("an unknown refusal is the engine's word with a pointer to doctor; a plain bug stays a bug", () => {
	const { text } = captured(engineError(409, 'something new the engine says'));
	assert.match(text, /the container engine refused the request: something new the engine says \(HTTP 409\)/);
	assert.match(text, /stigmer doctor/);
	assert.doesNotMatch(text, /bug in stigmer/);
	assert.equal(engineRefusal(new TypeError('x is undefined')), null);
	assert.match(captured(new TypeError('x is undefined')).text, /bug in stigmer/);
});
