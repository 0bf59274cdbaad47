import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultConfig } from '../config/loadConfig.ts';
import { containerEnv, labels, serviceUser } from '../contract.ts';
import { planContainer } from './ContainerService.ts';
import { type ContainerNetwork, containerLlmUrl, defaultBridgeNetwork, loopbackLlm } from './network.ts';
import { StigmerHome } from '../home/StigmerHome.ts';

const home = new StigmerHome('/tmp/stigmer-plan-home', false);
const own: ContainerNetwork = {
	choice: { mode: 'home', reason: 'test' },
	networkMode: 'stigmer-test',
	llmUrl: 'http://172.18.0.1:11434/v1',
	extraHosts: ['host.docker.internal:172.18.0.1'],
};
const bridge = defaultBridgeNetwork('http://127.0.0.1:11434/v1', { mode: 'bridge', reason: 'test' });
const env = (body: Record<string, unknown>) => Object.fromEntries((body.Env as string[]).map((e) => e.split(/=(.*)/s).slice(0, 2)));

test('the LLM URL: the host loopback is mapped, anything else is kept', () => {
	assert.equal(containerLlmUrl('http://127.0.0.1:11434/v1', 'host.docker.internal'), 'http://host.docker.internal:11434/v1');
	assert.equal(containerLlmUrl('http://localhost:8000/v1', 'host.docker.internal'), 'http://host.docker.internal:8000/v1');
	assert.equal(containerLlmUrl('http://127.0.0.1:11434/v1', '172.18.0.1', 40000), 'http://172.18.0.1:40000/v1');
	assert.equal(containerLlmUrl('http://[::1]:11434/v1/', '172.18.0.1'), 'http://172.18.0.1:11434/v1/');
	assert.equal(containerLlmUrl('https://api.openai.com/v1', 'host.docker.internal', 1), 'https://api.openai.com/v1');
	assert.equal(containerLlmUrl('http://192.168.1.5:11434/v1', '172.18.0.1', 1), 'http://192.168.1.5:11434/v1');
	assert.equal(bridge.llmUrl, 'http://host.docker.internal:11434/v1');
});

test('which LLM URLs point at the host loopback, and where the forward sends them', () => {
	assert.deepEqual(loopbackLlm('http://127.0.0.1:11434/v1'), { host: '127.0.0.1', port: 11434 });
	assert.deepEqual(loopbackLlm('http://localhost/v1'), { host: '127.0.0.1', port: 80 });
	assert.deepEqual(loopbackLlm('https://localhost/v1'), { host: '127.0.0.1', port: 443 });
	assert.deepEqual(loopbackLlm('http://[::1]:8000/v1'), { host: '::1', port: 8000 });
	assert.deepEqual(loopbackLlm('http://127.0.0.2:8000/v1'), { host: '127.0.0.2', port: 8000 });
	assert.equal(loopbackLlm('https://api.openai.com/v1'), null);
	assert.equal(loopbackLlm('http://192.168.1.5:11434/v1'), null);
});

test('own network: never the host network; the API binds 0.0.0.0 in the container, published on 127.0.0.1 only', () => {
	const config = defaultConfig(home).agentRunner;
	const plan = planContainer(home, { ...config, port: 7777 }, 'sha256:abc', own);
	const e = env(plan.body);
	const hc = plan.body.HostConfig as Record<string, any>;
	assert.equal(e[containerEnv.httpHost], '0.0.0.0');
	assert.equal(e[containerEnv.httpPort], '7480');
	assert.equal(e[containerEnv.llmBaseUrl], 'http://172.18.0.1:11434/v1');
	assert.equal(e[containerEnv.sandboxNetwork], 'none');
	assert.equal(hc.NetworkMode, 'stigmer-test');
	assert.deepEqual(hc.PortBindings, { '7480/tcp': [{ HostIp: '127.0.0.1', HostPort: '7777' }] });
	assert.deepEqual(hc.ExtraHosts, ['host.docker.internal:172.18.0.1']);
	assert.equal(plan.endpoint, 'http://127.0.0.1:7777');
});

test('default bridge (VM and remote engines): published on 127.0.0.1 only, host-gateway mapped', () => {
	const config = defaultConfig(home).agentRunner;
	const plan = planContainer(home, { ...config, port: 7777 }, 'sha256:abc', bridge);
	const hc = plan.body.HostConfig as Record<string, any>;
	assert.equal(hc.NetworkMode, 'bridge');
	assert.deepEqual(hc.PortBindings, { '7480/tcp': [{ HostIp: '127.0.0.1', HostPort: '7777' }] });
	assert.deepEqual(hc.ExtraHosts, ['host.docker.internal:host-gateway']);
	assert.equal(env(plan.body)[containerEnv.httpHost], '0.0.0.0');
	assert.equal(env(plan.body)[containerEnv.llmBaseUrl], 'http://host.docker.internal:11434/v1');
	// Podman before 4.7 refuses host-gateway; it names the host host.containers.internal itself
	const podman = defaultBridgeNetwork('http://localhost:11434/v1', { mode: 'bridge', reason: 'test', podman: true });
	assert.deepEqual(podman.extraHosts, []);
	assert.equal(podman.llmUrl, 'http://host.containers.internal:11434/v1');
});

test('hardening, mounts, secrets as files, labels', () => {
	const config = { ...defaultConfig(home).agentRunner, llm: { ...defaultConfig(home).agentRunner.llm, apiKeyFile: '/tmp/stigmer-plan-home/secrets/llm-api-key' } };
	const plan = planContainer(home, config, 'sha256:abc', own);
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
	const a = planContainer(home, config, 'sha256:abc', own).hash;
	assert.equal(planContainer(home, config, 'sha256:abc', own).hash, a);
	assert.notEqual(planContainer(home, { ...config, memory: 2 * 1024 ** 3 }, 'sha256:abc', own).hash, a);
	assert.notEqual(planContainer(home, { ...config, env: { X: '1' } }, 'sha256:abc', own).hash, a);
	// a later policy (only none exists today) must recreate the container, as every variable does
	assert.notEqual(planContainer(home, { ...config, sandbox: { ...config.sandbox, network: 'internet' as 'none' } }, 'sha256:abc', own).hash, a);
	assert.notEqual(planContainer(home, config, 'sha256:def', own).hash, a, 'a rebuilt image recreates');
	assert.notEqual(planContainer(home, config, 'sha256:abc', bridge).hash, a);
	assert.notEqual(planContainer(home, config, 'sha256:abc', { ...own, llmUrl: 'http://172.18.0.1:40000/v1' }).hash, a, 'a forward on another port recreates');
});

test('the default home keeps the plain container name', () => {
	assert.equal(new StigmerHome('/root/.stigmer', true).containerName, 'stigmer-agent-runner');
});

test('the budgets reach the container: the disk budget as configured, the memory budget half the memory unless set', () => {
	const base = defaultConfig(home).agentRunner;
	const e = env(planContainer(home, base, 'sha256:abc', own).body);
	assert.equal(e[containerEnv.sandboxDiskBudgetBytes], String(1024 ** 3));
	assert.equal(e[containerEnv.sandboxMemoryBudgetBytes], String(512 * 1024 ** 2));
	const set = env(planContainer(home, { ...base, memory: 4 * 1024 ** 3, sandbox: { ...base.sandbox, diskBudget: 64 * 1024 ** 2, memoryBudget: 3 * 1024 ** 3 } }, 'sha256:abc', own).body);
	assert.equal(set[containerEnv.sandboxDiskBudgetBytes], String(64 * 1024 ** 2));
	assert.equal(set[containerEnv.sandboxMemoryBudgetBytes], String(3 * 1024 ** 3));
});
