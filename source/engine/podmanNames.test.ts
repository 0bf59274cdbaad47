import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unqualifiedImage } from './podmanNames.ts';

test("Podman's qualified image names read as the user wrote them; Docker's are left alone", () => {
	assert.equal(unqualifiedImage('docker.io/stigmer/agent-runner:0.0.0-test-1'), 'stigmer/agent-runner:0.0.0-test-1');
	assert.equal(unqualifiedImage('localhost/stigmer/agent-runner:0.1.0'), 'stigmer/agent-runner:0.1.0');
	assert.equal(unqualifiedImage('docker.io/library/debian:trixie-slim'), 'debian:trixie-slim');
	assert.equal(unqualifiedImage('stigmer/agent-runner:0.1.0'), 'stigmer/agent-runner:0.1.0');
	assert.equal(unqualifiedImage('ghcr.io/acme/runner:1'), 'ghcr.io/acme/runner:1');
});
