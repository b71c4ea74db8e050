import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';

import { readShardStates, renderSlurmScript, shellQuote, type SlurmScriptOptions } from '../../src/batch/slurm.js';
import { hasFlag } from '../../src/ground/flags.js';
import { readCatalog } from '../../src/catalog/read.js';
import { EXIT_CODES, UsageError } from '../../src/errors.js';
import { simulateCutouts } from '../../src/sim/cutouts.js';
import { describeIf, repoRoot } from '../helpers/shared.js';

const cli = path.join(repoRoot, 'dist', 'cli', 'index.js');
const localCluster = path.join(repoRoot, 'pipelines', 'slurm', 'local-cluster.sh');

const base = (parts: string): SlurmScriptOptions => ({ manifest: '/data/manifest.json', shards: 3, parts, workdir: '/data' });

describe('renderSlurmScript', () => {
  test('caps the array and strides the shards over it; throttle and resources become #SBATCH lines', () => {
    const script = renderSlurmScript({ ...base('/data/parts'), shards: 2500, maxArray: 1000, throttle: 50, partition: 'short', time: '2:00:00', cpusPerTask: 4, mem: '8G' });
    expect(script).toMatch(/^#SBATCH --array=0-999%50$/m);
    expect(script).toMatch(/^stride=1000$/m);
    expect(script).toMatch(/^shards=2500$/m);
    for (const line of ['--partition="short"', '--time="2:00:00"', '--cpus-per-task=4', '--mem="8G"', '--requeue', '--open-mode=append', '--chdir="/data"']) expect(script).toContain(`#SBATCH ${line}\n`);
    expect(renderSlurmScript(base('/data/parts'))).toMatch(/^#SBATCH --array=0-2$/m);
    expect(renderSlurmScript(base('/data/parts'))).not.toMatch(/--partition|--time|--mem|--cpus-per-task/);
  });

  test('quotes paths for bash and for #SBATCH lines, where % is a file name pattern', () => {
    const script = renderSlurmScript({ ...base(`/data/it's "100%" done`), runOptions: ['--seed', '7', '--model', '/m dir/card.json'] });
    expect(script).toContain(`#SBATCH --output="/data/it's \\"100%%\\" done/logs/slurm-%A_%a.out"\n`);
    expect(script).toContain(`parts='/data/it'\\''s "100%" done'\n`);
    expect(script).toContain(`--seed 7 --model '/m dir/card.json')`);
    expect(script).toMatch(/^run=\(node \/\S+\/dist\/cli\/index\.js run /m);
  });

  test('refuses relative paths, line breaks and nonsense counts', () => {
    expect(() => renderSlurmScript({ ...base('parts') })).toThrow(UsageError);
    expect(() => renderSlurmScript({ ...base('/parts'), partition: 'a\n#SBATCH --x' })).toThrow(UsageError);
    expect(() => renderSlurmScript({ ...base('/parts'), maxArray: 0 })).toThrow(UsageError);
    expect(() => renderSlurmScript({ ...base('/parts'), maxRetries: -1 })).toThrow(UsageError);
  });

  describe('the script under bash, with vis-agn and scontrol stubbed', () => {
    let dir: string;
    let parts: string;
    let stubs: string;

    beforeAll(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'vis agn slurm-unit-'));
      parts = path.join(dir, "parts 'a'");
      stubs = path.join(dir, 'bin');
      mkdirSync(path.join(parts, 'status'), { recursive: true });
      mkdirSync(stubs);
      // vis-agn: records its arguments, exits with EXIT_<shard> (default 0) and marks a success done.
      writeFileSync(
        path.join(stubs, 'vis-agn'),
        `#!/usr/bin/env bash
shard=\${@: -1}
printf '%s\\n' "$@" >"$CALLS/shard-$shard"
code_var=EXIT_$shard
((\${!code_var:-0} != 0)) || touch "$(printf '%s/part-%05d.done' "$PARTS" "$shard")"
exit "\${!code_var:-0}"
`,
      );
      writeFileSync(path.join(stubs, 'scontrol'), '#!/usr/bin/env bash\necho "$*" >>"$CALLS/scontrol"\n');
      for (const stub of ['vis-agn', 'scontrol']) chmodSync(path.join(stubs, stub), 0o755);
    });

    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    /** Runs array task `task` of a 7-shard script capped at 3 tasks; returns its exit code and what it did. */
    function runTask(name: string, task: number, env: Record<string, string>): { code: number | null; stderr: string; calls: string; shards: number[]; scontrol: string } {
      const calls = path.join(dir, name);
      mkdirSync(calls);
      const script = path.join(dir, `${name}.sbatch`);
      writeFileSync(script, renderSlurmScript({ ...base(parts), shards: 7, maxArray: 3, command: shellQuote(path.join(stubs, 'vis-agn')), runOptions: ['--seed', '3'] }));
      const result = spawnSync('bash', [script], {
        encoding: 'utf8',
        env: { PATH: `${stubs}:${process.env.PATH}`, CALLS: calls, PARTS: parts, SLURM_ARRAY_JOB_ID: '40', SLURM_ARRAY_TASK_ID: String(task), SLURM_JOB_ID: `4${task}`, SLURMD_NODENAME: 'node7', ...env },
      });
      const read = (file: string) => (existsSync(path.join(calls, file)) ? readFileSync(path.join(calls, file), 'utf8') : '');
      const shards = readdirSync(calls).filter((f) => f.startsWith('shard-')).map((f) => Number(f.slice(6))).sort((a, b) => a - b);
      return { code: result.status, stderr: result.stderr, calls, shards, scontrol: read('scontrol') };
    }

    test('task i runs shards i, i+3, i+6 with the manifest, parts and options, and marks them done', () => {
      const result = runTask('ok', 0, {});
      expect(result.stderr).toContain('shard 6, attempt 0: exit 0 (ok), done');
      expect(result.code).toBe(0);
      expect(result.shards).toEqual([0, 3, 6]);
      expect(readFileSync(path.join(result.calls, 'shard-3'), 'utf8').split('\n')).toEqual(['run', '--manifest', '/data/manifest.json', '--out', parts, '--workers', '1', '--threads', '1', '--seed', '3', '--shard', '3', '']);
      expect(result.scontrol).toBe('');
      const line = readFileSync(path.join(parts, 'status', 'shard-00003.tsv'), 'utf8').trim().split('\n').at(-1)!.split('\t');
      expect(line.slice(0, 7)).toEqual(['3', '0', 'ok', '0', 'done', '40_0', 'node7']);
    });

    test('an output failure or a crash requeues the task while retries are left; bad input never does', () => {
      const first = runTask('retry', 1, { EXIT_1: String(EXIT_CODES.outputFailed), EXIT_4: String(EXIT_CODES.invalidInput) });
      // Every shard of the task still runs; the task exits with the last failure.
      expect(first.shards).toEqual([1, 4]);
      expect(first.scontrol).toBe('requeue 41\n');
      expect(first.code).toBe(EXIT_CODES.invalidInput);
      expect(first.stderr).toMatch(/shard 1, attempt 0: exit 7 \(outputFailed\), requeue/);
      expect(first.stderr).toMatch(/shard 4, attempt 0: exit 4 \(invalidInput\), failed/);

      const last = runTask('retry-last', 1, { SLURM_RESTART_COUNT: '2', EXIT_1: String(EXIT_CODES.internal), EXIT_4: String(EXIT_CODES.invalidInput) });
      expect(last.scontrol).toBe('');
      expect(last.stderr).toMatch(/shard 1, attempt 2: exit 1 \(internal\), failed/);

      const killed = runTask('killed', 2, { EXIT_2: '137' });
      expect(killed.stderr).toMatch(/shard 2, attempt 0: exit 137 \(signal-9\), requeue/);
      expect(killed.scontrol).toBe('requeue 42\n');
    });

    test('the status folder says which shards are done, failed, requeued, or never started', () => {
      const states = readShardStates(parts, 8);
      expect(states.map((s) => s.state)).toEqual(['done', 'failed', 'requeued', 'done', 'failed', 'done', 'done', 'pending']);
      expect(states[4]).toMatchObject({ exitCode: 4, className: 'invalidInput', attempt: 2, task: '40_1', node: 'node7' });
      expect(states[1]).toMatchObject({ exitCode: 1, className: 'internal', attempt: 2 });
    });
  });
});

const SLURM_BINARIES = ['slurmctld', 'slurmd', 'munged', 'mungekey', 'sbatch', 'squeue', 'scontrol', 'sinfo'];
const hasSlurm = SLURM_BINARIES.every((name) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name], { stdio: 'ignore' }).status === 0);
const isRoot = process.getuid?.() === 0;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Result {
  const result = spawnSync(command, args, { encoding: 'utf8', env, timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const visAgn = (...args: string[]): Result => run(process.execPath, [cli, ...args]);

describeIf(hasSlurm && isRoot, `needs root and ${SLURM_BINARIES.join(', ')} (Debian: slurm-wlm, munge)`, 'a SLURM array on a one-node local cluster', () => {
  let dir: string;
  let cluster: string;
  let work: string;
  let inputs: string;
  let slurmEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vis-agn-slurm-'));
    // slurm.conf cannot hold a path with a space; the run's folder has one to test the quoting.
    cluster = path.join(dir, 'cluster');
    work = path.join(dir, 'run dir');
    const started = run('bash', [localCluster, 'start', cluster]);
    if (started.code !== 0) throw new Error(`local-cluster.sh start failed:\n${started.stderr}`);
    slurmEnv = { ...process.env, SLURM_CONF: path.join(cluster, 'slurm.conf') };
    const sims = await simulateCutouts({ count: 24, seed: 19, out: path.join(work, 'sims'), workers: 1 });
    // A corrupt input must still give its row, flagged, in the shard that holds it.
    truncateSync(sims.files[9]!, 5000);
    inputs = path.join(work, 'sims', 'cutouts');
  }, 60_000);

  afterAll(() => {
    const stopped = run('bash', [localCluster, 'stop', cluster]);
    const pidFiles = ['slurmctld.pid', 'slurmd.pid', 'munge/munged.pid'].map((f) => path.join(cluster, f)).filter(existsSync);
    const left = pidFiles.map((f) => readFileSync(f, 'utf8').trim()).filter((pid) => {
      const stat = path.join('/proc', pid, 'stat');
      return existsSync(stat) && readFileSync(stat, 'utf8').split(' ')[2] !== 'Z';
    });
    rmSync(dir, { recursive: true, force: true });
    if (stopped.code !== 0 || left.length > 0) throw new Error(`local-cluster.sh stop left daemons ${left.join(', ')}: ${stopped.stderr}`);
  }, 60_000);

  function submit(script: string): string {
    const result = run('sbatch', ['--parsable', script], slurmEnv);
    if (result.code !== 0) throw new Error(`sbatch failed: ${result.stderr}`);
    return result.stdout.trim().split(';')[0]!;
  }

  /** Everything a person would look at when an array does not finish. */
  function diagnose(parts: string): string {
    const dump = (folder: string) => (existsSync(folder) ? readdirSync(folder).map((f) => `--- ${f}\n${readFileSync(path.join(folder, f), 'utf8')}`) : [`(no ${folder})`]);
    const ctld = readFileSync(path.join(cluster, 'log', 'slurmctld.log'), 'utf8').split('\n').slice(-30);
    return [`squeue:\n${run('squeue', [], slurmEnv).stdout}`, ...dump(path.join(parts, 'logs')), ...dump(path.join(parts, 'status')), '--- slurmctld.log', ...ctld].join('\n');
  }

  /** Polls squeue until the array has left the queue. A requeued task is held for two minutes; release it now. */
  async function waitFor(job: string, parts: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const queue = run('squeue', ['-h', '-j', job, '-o', '%i %r'], slurmEnv);
      if (queue.code !== 0) throw new Error(`squeue failed: ${queue.stderr}\n${diagnose(parts)}`);
      const lines = queue.stdout.split('\n').filter(Boolean);
      if (lines.length === 0) return;
      for (const [task, reason] of lines.map((line) => line.split(' '))) if (reason === 'BeginTime') run('scontrol', ['update', `JobId=${task}`, 'StartTime=now'], slurmEnv);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    throw new Error(`array job ${job} still queued after ${timeoutMs / 1000} s\n${diagnose(parts)}`);
  }

  const statusLines = (parts: string, shard: number) => readFileSync(path.join(parts, 'status', `shard-0000${shard}.tsv`), 'utf8').trim().split('\n').map((line) => line.split('\t'));

  test('3 shards, one failing its first attempt as a full disk would: requeued, merged, equal to one process bit for bit', async () => {
    const manifest = path.join(work, 'manifest.json');
    expect(visAgn('plan', inputs, '--shards', '3', '--out', manifest).stdout).toMatch(/24 inputs in 3 shards of 8-8/);
    const parts = path.join(work, 'parts');
    // Shard 1's first attempt exits as an OutputError (7) would; later attempts are vis-agn itself.
    const wrapper = path.join(work, 'flaky vis-agn.sh');
    writeFileSync(wrapper, `#!/usr/bin/env bash\nif [[ \${@: -1} == 1 && \${SLURM_RESTART_COUNT:-0} == 0 ]]; then exit ${EXIT_CODES.outputFailed}; fi\nexec node ${shellQuote(cli)} "$@"\n`);
    const script = path.join(work, 'array.sbatch');
    const generated = visAgn('slurm', '--manifest', manifest, '--parts', parts, '--out', script, '--command', `bash ${shellQuote(wrapper)}`, '--', '--quiet');
    expect(generated.stderr).toBe('');
    expect(generated.stdout).toMatch(/3 shards in 3 array tasks/);

    const job = submit(script);
    await waitFor(job, parts, 90_000);
    // Shard 1 holds the corrupt input: its attempt is a partial failure (exit 9), recorded and not
    // requeued (a rerun would not read the file either), and its part is complete, with the flagged row.
    const status = visAgn('slurm-status', '--manifest', manifest, '--parts', parts);
    if (status.code !== 0) throw new Error(`${status.stdout}\n${diagnose(parts)}`);
    expect(status.stdout).toMatch(/3 shards: 3 done, 0 failed/);
    const retried = statusLines(parts, 1).filter((line) => line[4] !== 'running');
    expect(retried.map((line) => line.slice(0, 5))).toEqual([
      ['1', '7', 'outputFailed', '0', 'requeue'],
      ['1', '9', 'partialFailure', '1', 'failed'],
    ]);
    expect(statusLines(parts, 2).map((line) => line[3])).toEqual(['0', '0']);
    expect(readFileSync(path.join(parts, 'logs', `slurm-${job}_1.out`), 'utf8')).toMatch(/attempt 0: exit 7 \(outputFailed\), requeue[^]*corrupt_input: [^]*attempt 1: exit 9 \(partialFailure\), failed/);

    const merged = path.join(work, 'merged.arrow');
    expect(visAgn('merge', '--manifest', manifest, '--parts', parts, '--out', merged).code).toBe(EXIT_CODES.partialFailure);
    expect(readFileSync(path.join(work, 'merged.errors.jsonl'), 'utf8')).toMatch(/"flag":"corrupt_input"/);
    const single = path.join(work, 'single');
    expect(visAgn('run', inputs, '--out', single, '--quiet').code).toBe(EXIT_CODES.partialFailure);
    const a = await readCatalog(path.join(single, 'catalog.arrow'));
    const b = await readCatalog(merged);
    expect(b.rows).toHaveLength(24);
    expect(b.rows.filter((row) => hasFlag(row.flags, 'corrupt_input'))).toHaveLength(1);
    expect(b.rows).toEqual(a.rows);
    const { createdAt: _a, inputs: _ai, ...metaA } = a.metadata;
    const { createdAt: _b, inputs: _bi, ...metaB } = b.metadata;
    expect(metaB).toEqual(metaA);
  }, 150_000);

  test('a manifest broken after the script was written: every shard fails as invalidInput once, never requeued', async () => {
    const manifest = path.join(work, 'broken.json');
    copyFileSync(path.join(work, 'manifest.json'), manifest);
    const parts = path.join(work, 'broken parts');
    const script = path.join(work, 'broken.sbatch');
    // Two tasks for three shards: task 0 runs shards 0 and 2. The default command runs dist/cli/index.js.
    expect(visAgn('slurm', '--manifest', manifest, '--parts', parts, '--out', script, '--max-array', '2').stdout).toMatch(/3 shards in 2 array tasks/);
    writeFileSync(manifest, '{"schema": "something else"}\n');

    const job = submit(script);
    await waitFor(job, parts, 60_000);
    const status = visAgn('slurm-status', '--manifest', path.join(work, 'manifest.json'), '--parts', parts);
    expect(status.code).toBe(EXIT_CODES.partialFailure);
    expect(status.stdout).toMatch(/3 shards: 0 done, 3 failed/);
    for (const shard of [0, 1, 2]) {
      expect(status.stdout).toMatch(new RegExp(`^${shard}\\s+failed\\s+4\\s+invalidInput\\s+0\\s+${job}_${shard % 2}\\s`, 'm'));
      expect(statusLines(parts, shard)).toHaveLength(2);
    }
    expect(readFileSync(path.join(parts, 'logs', `slurm-${job}_0.out`), 'utf8')).toMatch(/not a vis-agn\/manifest\/1 manifest/);
  }, 90_000);
});
