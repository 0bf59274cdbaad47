// The supervisor, home-lock and process-tree tests again, with the portable process facts forced
// (platform/PsFacts.ts: `ps` and `lsof`, what macOS and the BSDs get), so CI on Linux runs that code
// too. The supervisors these tests start inherit the variable. One file, so `npm test` keeps one runner
// and one summary.
process.env.STIGMER_PROCESS_FACTS = 'ps';
await import('./supervisor.test.ts');
await import('../../source/home/HomeLock.test.ts');
await import('../../source/supervisor/processStats.test.ts');
await import('../../source/platform/ProcessFacts.test.ts');
