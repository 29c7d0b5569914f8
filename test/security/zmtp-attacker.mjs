/**
A hostile ZMTP peer in a process of its own, so that its flood costs the node under test nothing but
what the node does with it (an attacker in the test's own process would share its event loop).
Speaks raw ZMTP 3.0 bytes over node:net; imports nothing of the project.

    node zmtp-attacker.mjs '<json>'

with {mode, ...}:
- empty-more {port}: listen on 127.0.0.1:port as a PUB; to each subscriber that connects, after the handshake,
  write empty frames with MORE (2 bytes each) without end.
- unknown-commands: the same, with tiny unknown commands (4 bytes each).
- ping-flood {target, clients}: connect `clients` SUBs to `target`, subscribe to everything, then
  flood PINGs and never read.
- prefixes {target, connections, long, huge, short}: connect `connections` SUBs to `target`; each
  subscribes `long` prefixes of 60,000 bytes, `huge` of 20,000 (over V8's 16,383-character hash
  limit, all of one length) and `short` non-matching ones of 4–8 bytes. Then reads and discards.
- connections {target, count}: open `count` TCP connections to `target` that greet and subscribe,
  and hold them.
It prints one JSON line when ready ({"ready":true,"port":…} when it listens) and one a second with
what it has done ({"sent":…,"open":…,"refused":…}); it runs until killed.
*/

import net from 'node:net';

const options = JSON.parse(process.argv[2] ?? '{}');
const stats = {sent: 0, open: 0, closed: 0, errors: 0};

const GREETING = (() => {
	const greeting = Buffer.alloc(64);
	greeting[0] = 0xff;
	greeting[9] = 0x7f;
	greeting[10] = 3;
	greeting.write('NULL', 12, 'latin1');
	return greeting;
})();

function frame(body, flags) {
	if (body.length <= 255) {
		return Buffer.concat([Buffer.from([flags, body.length]), body]);
	}

	const header = Buffer.alloc(9);
	header[0] = flags | 0x02;
	header.writeUInt32BE(0, 1);
	header.writeUInt32BE(body.length, 5);
	return Buffer.concat([header, body]);
}

function command(name, data = Buffer.alloc(0)) {
	return frame(Buffer.concat([Buffer.from([name.length]), Buffer.from(name, 'latin1'), data]), 0x04);
}

function ready(socketType) {
	const name = 'Socket-Type';
	const value = Buffer.from(socketType, 'latin1');
	const property = Buffer.alloc(1 + name.length + 4);
	property[0] = name.length;
	property.write(name, 1, 'latin1');
	property.writeUInt32BE(value.length, 1 + name.length);
	return command('READY', Buffer.concat([property, value]));
}

function subscription(prefix) {
	return frame(Buffer.concat([Buffer.from([1]), prefix]), 0);
}

/** Write `block` whenever the socket drains, as fast as the peer takes it. */
function flood(socket, block) {
	const write = () => {
		while (!socket.destroyed && socket.write(block)) {
			stats.sent += block.length;
		}
	};

	socket.on('drain', write);
	write();
}

function target() {
	const url = new URL(options.target.replace('tcp://', 'http://'));
	return {host: url.hostname, port: Number(url.port)};
}

/** A SUB that greets, sends READY, then does `then(socket)` once the server's greeting is in. */
function subscriber(then, {read = true} = {}) {
	const socket = net.connect(target());
	let seen = 0;
	let started = false;
	socket.on('connect', () => {
		stats.open++;
		socket.write(Buffer.concat([GREETING, ready('SUB')]));
	});
	socket.on('data', (chunk) => {
		seen += chunk.length;
		if (!started && seen >= 64) {
			started = true;
			then(socket);
			if (!read) {
				socket.pause();
			}
		}
	});
	socket.on('error', () => {
		stats.errors++;
	});
	socket.on('close', () => {
		stats.closed++;
	});
	return socket;
}

function publisherFlood(block) {
	const server = net.createServer((socket) => {
		stats.open++;
		socket.on('error', () => {
			stats.errors++;
		});
		socket.on('close', () => {
			stats.closed++;
		});
		socket.write(Buffer.concat([GREETING, ready('PUB')]));
		let seen = 0;
		let started = false;
		socket.on('data', (chunk) => {
			seen += chunk.length;
			// Its greeting and READY are in: flood.
			if (!started && seen >= 64 + 2) {
				started = true;
				flood(socket, block);
			}
		});
	});
	server.listen(options.port ?? 0, '127.0.0.1', () => {
		console.log(JSON.stringify({ready: true, port: server.address().port}));
	});
}

const repeat = (unit, bytes) => Buffer.concat(Array.from({length: Math.floor(bytes / unit.length)}, () => unit));

switch (options.mode) {
	case 'empty-more': {
		publisherFlood(repeat(Buffer.from([0x01, 0x00]), 64 * 1024));
		break;
	}

	case 'unknown-commands': {
		publisherFlood(repeat(frame(Buffer.from([1, 0x58]), 0x04), 64 * 1024));
		break;
	}

	case 'ping-flood': {
		const ping = command('PING', Buffer.from([0, 10]));
		const block = repeat(ping, 64 * 1024);
		for (let index = 0; index < options.clients; index++) {
			subscriber(
				(socket) => {
					socket.write(subscription(Buffer.alloc(0)));
					flood(socket, block);
				},
				{read: false},
			);
		}

		console.log(JSON.stringify({ready: true}));
		break;
	}

	case 'prefixes': {
		let serial = 0;
		const unique = (length, lead) => {
			const prefix = Buffer.alloc(length, lead);
			prefix.writeUInt32BE(serial++, length - 4);
			return prefix;
		};

		for (let index = 0; index < options.connections; index++) {
			subscriber((socket) => {
				const subscriptions = [];
				for (let count = 0; count < options.long; count++) {
					subscriptions.push(subscription(unique(60_000, 0x41)));
				}

				for (let count = 0; count < options.huge; count++) {
					subscriptions.push(subscription(unique(20_000, 0x42)));
				}

				for (let count = 0; count < options.short; count++) {
					// Starting as our messages do ('{"'), so that they are compared, and never matching.
					subscriptions.push(subscription(Buffer.concat([Buffer.from('{"x'), unique(4 + (count % 5), 0x43)])));
				}

				// Half the connections send their short prefixes first: both kinds are held when the bound is met.
				const all = Buffer.concat(index % 2 === 0 ? subscriptions : subscriptions.toReversed());
				stats.sent += all.length;
				socket.write(all);
			});
		}

		console.log(JSON.stringify({ready: true}));
		break;
	}

	case 'connections': {
		let opened = 0;
		// A few hundred at a time, so that the flood is a flood and not a SYN backlog overflow.
		const openSome = () => {
			for (let batch = 0; batch < 200 && opened < options.count; batch++, opened++) {
				subscriber((socket) => {
					socket.write(subscription(Buffer.alloc(0)));
				});
			}

			if (opened < options.count) {
				setTimeout(openSome, 20);
			} else {
				console.log(JSON.stringify({ready: true}));
			}
		};

		openSome();
		break;
	}

	default: {
		throw new Error(`unknown mode ${options.mode}`);
	}
}

setInterval(() => {
	console.log(JSON.stringify(stats));
}, 1000);
