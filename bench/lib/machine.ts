/** The machine a run measured: CPU, cores, Node, libzmq, Python's zmq, load at the start. */

import {spawnSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as zmq from 'zeromq';
import {PYTHON, REPO_ROOT} from './paths.js';

export type Machine = {
	cpuModel: string;
	cores: number;
	memoryGiB: number;
	kernel: string;
	node: string;
	zeromqJs: string;
	libzmq: string;
	python: string;
	pyzmq: string;
	pythonLibzmq: string;
	openFilesLimit: number;
	loadAverageAtStart: number[];
};

function readZeromqJsVersion(): string {
	try {
		const packageJson = readFileSync(path.join(REPO_ROOT, 'node_modules', 'zeromq', 'package.json'), 'utf8');
		return (JSON.parse(packageJson) as {version: string}).version;
	} catch {
		return 'unknown';
	}
}

function openFilesLimit(): number {
	const result = spawnSync('sh', ['-c', 'ulimit -n'], {encoding: 'utf8'});
	return Number(result.stdout.trim()) || Number.NaN;
}

export function describeMachine(): Machine {
	const python = spawnSync(
		PYTHON,
		['-c', 'import sys, zmq; print(sys.version.split()[0]); print(zmq.__version__); print(zmq.zmq_version())'],
		{encoding: 'utf8'},
	);
	const [pythonVersion = 'missing', pyzmq = 'missing', pythonLibzmq = 'missing'] =
		python.status === 0 ? python.stdout.trim().split('\n') : [];
	const cpus = os.cpus();
	return {
		cpuModel: cpus[0]?.model.trim() ?? 'unknown',
		cores: cpus.length,
		memoryGiB: Math.round(os.totalmem() / 2 ** 30),
		kernel: os.release(),
		node: process.version,
		zeromqJs: readZeromqJsVersion(),
		libzmq: zmq.version,
		python: pythonVersion,
		pyzmq,
		pythonLibzmq,
		openFilesLimit: openFilesLimit(),
		loadAverageAtStart: os.loadavg().map((load) => Math.round(load * 100) / 100),
	};
}
