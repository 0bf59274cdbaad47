import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultConfig } from '../../source/config/loadConfig.ts';
import { containerEnv, labels, serviceUser } from '../../source/contract.ts';
import { containerLlmUrl, planContainer } from '../../source/engine/ContainerService.ts';
import { StigmerHome } from '../../source/home/StigmerHome.ts';

const home = new StigmerHome('/tmp/stigmer-plan-home', false);
const host = { hostNetwork: true, reason: 'test' };
const bridge = { hostNetwork: false, reason: 'test' };
const env = (body: Record<string, unknown>) => Object.fromEntries((body.Env as string[]).map((e) => e.split(/=(.*)/s).slice(0, 2)));

test('the LLM URL is mapped for a bridge and kept for the host network', () => {
	assert.equal(containerLlmUrl('http://127.0.0.1:11434/v1', host), 'http://127.0.0.1:11434/v1');
	assert.equal(containerLlmUrl('http://127.0.0.1:11434/v1', bridge), 'http://host.docker.internal:11434/v1');
	assert.equal(containerLlmUrl('http://localhost:8000/v1', bridge), 'http://host.docker.internal:8000/v1');
	assert.equal(containerLlmUrl('https://api.openai.com/v1', bridge), 'https://api.openai.com/v1');
});

test('host network: the API binds loopback on the configured port; no ports published', () => {
	const config = defaultConfig(home).agentRunner;
	const plan = planContainer(home, { ...config, port: 7777 }, 'sha256:abc', host);
	const e = env(plan.body);
	assert.equal(e[containerEnv.httpHost], '127.0.0.1');
	assert.equal(e[containerEnv.httpPort], '7777');
	assert.equal((plan.body.HostConfig as Record<string, unknown>).NetworkMode, 'host');
	assert.equal((plan.body.HostConfig as Record<string, unknown>).PortBindings, undefined);
	assert.equal(plan.endpoint, 'http://127.0.0.1:7777');
});

test('bridge: published on 127.0.0.1 only, host-gateway mapped', () => {
	const config = defaultConfig(home).agentRunner;
	const plan = planContainer(home, { ...config, port: 7777 }, 'sha256:abc', bridge);
	const hc = plan.body.HostConfig as Record<string, any>;
	assert.deepEqual(hc.PortBindings, { '7480/tcp': [{ HostIp: '127.0.0.1', HostPort: '7777' }] });
	assert.deepEqual(hc.ExtraHosts, ['host.docker.internal:host-gateway']);
	assert.equal(env(plan.body)[containerEnv.httpHost], '0.0.0.0');
});

test('hardening, mounts, secrets as files, labels', () => {
	const config = { ...defaultConfig(home).agentRunner, llm: { ...defaultConfig(home).agentRunner.llm, apiKeyFile: '/tmp/stigmer-plan-home/secrets/llm-api-key' } };
	const plan = planContainer(home, config, 'sha256:abc', host);
	const hc = plan.body.HostConfig as Record<string, any>;
	assert.equal(hc.ReadonlyRootfs, true);
	assert.equal(hc.Init, true);
	assert.deepEqual(hc.CapDrop, ['ALL']);
	assert.deepEqual(hc.CapAdd, ['CHOWN', 'SETUID', 'SETGID'], 'the sandbox launcher needs these three, nothing else');
	assert.equal(plan.body.User, '0:0');
	assert.equal(env(plan.body)[containerEnv.serviceUid], String(serviceUser().uid));
	assert.equal(env(plan.body)[containerEnv.serviceGid], String(serviceUser().gid));
	assert.deepEqual(hc.SecurityOpt, ['no-new-privileges:true']);
	assert.equal(hc.Memory, 1024 ** 3);
	assert.equal(hc.NanoCpus, 2e9);
	assert.ok(hc.Tmpfs['/tmp']);
	assert.deepEqual(hc.Binds, [
		'/tmp/stigmer-plan-home/workspace:/workspace',
		'/tmp/stigmer-plan-home/data/agent-runner:/data',
		'/tmp/stigmer-plan-home/secrets/api-token:/run/secrets/api-token:ro',
		'/tmp/stigmer-plan-home/secrets/llm-api-key:/run/secrets/llm-api-key:ro',
	]);
	const e = env(plan.body);
	assert.equal(e[containerEnv.llmApiKeyFile], '/run/secrets/llm-api-key');
	assert.ok(!Object.keys(e).some((k) => /KEY$|TOKEN$/.test(k)), 'secrets are files, never env');
	const l = plan.body.Labels as Record<string, string>;
	assert.equal(l[labels.managed], 'true');
	assert.equal(l[labels.home], home.hash);
	assert.equal(l[labels.configHash], plan.hash);
	assert.equal(plan.name, `stigmer-agent-runner-${home.hash}`);
});

test('the configuration hash: stable when nothing changes, different when anything does', () => {
	const config = defaultConfig(home).agentRunner;
	const a = planContainer(home, config, 'sha256:abc', host).hash;
	assert.equal(planContainer(home, config, 'sha256:abc', host).hash, a);
	assert.notEqual(planContainer(home, { ...config, memory: 2 * 1024 ** 3 }, 'sha256:abc', host).hash, a);
	assert.notEqual(planContainer(home, { ...config, env: { X: '1' } }, 'sha256:abc', host).hash, a);
	assert.notEqual(planContainer(home, config, 'sha256:def', host).hash, a, 'a rebuilt image recreates');
	assert.notEqual(planContainer(home, config, 'sha256:abc', bridge).hash, a);
});

test('the default home keeps the plain container name', () => {
	assert.equal(new StigmerHome('/root/.stigmer', true).containerName, 'stigmer-agent-runner');
});
