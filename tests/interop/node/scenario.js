#!/usr/bin/env node
'use strict';
/*
 * Interop scenario: an LwM2M server built on lwm2m-node-lib 1.4.0 (plain CoAP over UDP),
 * listening on 127.0.0.1 only, drives one client endpoint through:
 *   Register -> Read /3/0/0 -> Write /1/0/1 -> Read /3/0 (JSON) -> Write /1/0/1 (JSON)
 *   -> Read /1/0/1 -> Execute /1/0/8 -> Write-Attributes /3/0 -> Discover /3/0
 *   [-> Write /33001/0/1 (JSON) -> Read /33001/0/1 (JSON) -> Execute /33001/0/2 with
 *   arguments, when the client registers </33001/0>] -> (Update) -> De-register
 *
 * usage: node scenario.js ENDPOINT [PORT]
 *   PORT 0 (default): the kernel picks a free port on 127.0.0.1.
 *   env SCENARIO_TIMEOUT_S (default 80): overall bound.
 *   env OP_TIMEOUT_S (default 10): bound for each server-initiated operation.
 *   env LOG_LEVEL (default FATAL): the library's own log level (DEBUG shows every exchange).
 *
 * Output (stdout), one line per event:
 *   LISTENING <port>
 *   RX <method> <url> from <addr>:<port>        every request the client sends to the server
 *   REGISTERED ep=.. lt=.. b=.. lwm2m=.. id=.. payload=..
 *   READ /3/0/0 ok <value> | WRITE /1/0/1 ok | EXECUTE /1/0/8 ok | DISCOVER /3/0 ok <links>
 *   READ_JSON <path> ok <name=value,...> | WRITE_JSON <path> ok | EXECUTE_ARGS /33001/0/2 ok
 *   UPDATED ep=.. lt=.. payload=..
 *   DEREGISTERED ep=..
 *   PASS                                           exit 0
 *   FAIL <reason>                                  exit 1 (one line per reason)
 *
 * Quirks of the library that are KEPT on purpose (a client must tolerate them):
 *   - the Register response carries Location-Path as ONE option "rd/<id>";
 *   - requests to the client go through the server's internal CoAP proxy, so a CON message the
 *     client sends back (separate response, notification) is never ACKed;
 *   - Content-Format/Accept value 0 is encoded as one 0x00 byte, not as an empty option.
 * Configuration, not patches of behaviour a client sees:
 *   - writeFormat 'text/plain' (0) for Write/Execute instead of the library's default, the
 *     pre-standard 1541 (a standard client answers 1541 with 4.15);
 *   - Accept text/plain for Read;
 *   - for the JSON steps, Accept / Content-Format LwM2M JSON (11543), set in the same
 *     configuration object for the one request and put back after it.
 * The only code patches: bind the server and the library's request sockets to 127.0.0.1
 * (the library binds the wildcard address) without SO_REUSEADDR, so that the port is really ours.
 */

const dgram = require('dgram');
const coap = require('coap');

const HOST = '127.0.0.1';

// --- loopback-only binding -------------------------------------------------------------------
// Server socket: node-coap's listen(port, cb) binds 0.0.0.0 with reuseAddr; force HOST, no reuse.
const origCreateServer = coap.createServer;
coap.createServer = function createServerOnLoopback(opts, listener) {
  const server = origCreateServer.call(coap, opts, listener);
  const origListen = server.listen;
  server.listen = function listenOnLoopback(port, address, done) {
    if (typeof address === 'function') { done = address; }
    const origCreateSocket = dgram.createSocket;
    dgram.createSocket = (o, cb) => origCreateSocket.call(dgram, Object.assign({}, o, { reuseAddr: false }), cb);
    try {
      return origListen.call(server, port, HOST, done);
    } finally {
      dgram.createSocket = origCreateSocket;
    }
  };
  return server;
};
// Request sockets: the library creates one Agent per request; node-coap would bind its socket
// implicitly to 0.0.0.0 on first send. Bind it to HOST:0 first.
const origAgentInit = coap.Agent.prototype._init;
coap.Agent.prototype._init = function initOnLoopback(socket) {
  const fresh = !this._sock && !socket && !(this._opts && this._opts.port);
  origAgentInit.call(this, socket);
  if (fresh && this._sock) this._sock.bind(0, HOST);
};

const lwm2m = require('lwm2m-node-lib');
const srv = lwm2m.server;

// --- arguments ---------------------------------------------------------------------------------
const EP = process.argv[2];
const PORT = parseInt(process.argv[3] || '0', 10);
if (!EP || !Number.isInteger(PORT) || PORT < 0 || PORT > 65535) {
  console.log('FAIL usage: node scenario.js ENDPOINT [PORT]');
  process.exit(2);
}
const TIMEOUT_S = parseFloat(process.env.SCENARIO_TIMEOUT_S || '80');
const OP_TIMEOUT_S = parseFloat(process.env.OP_TIMEOUT_S || '10');

const say = (line) => console.log(line);

// --- state -------------------------------------------------------------------------------------
const st = {
  stage: 'start',
  registered: null,       // { id, lt }
  opsDone: false,
  executeSentAt: 0,
  updatesAfterExecute: 0,
  deregistered: false,
  notifications: [],      // values of /3303/0/5700 notified after the Observe
  failures: [],
};
let serverInfo = null;
let finished = false;

function finish() {
  if (finished) return;
  finished = true;
  const code = st.failures.length === 0 ? 0 : 1;
  if (code === 0) say('PASS');
  for (const f of st.failures) say(`FAIL ${f}`);
  const exit = () => process.exit(code);
  if (!serverInfo) { exit(); return; }
  // Let the last response (e.g. 2.02 to the De-register) leave before closing the socket.
  setTimeout(() => {
    setTimeout(exit, 500);
    srv.stop(serverInfo, exit);
  }, 300);
}

function fail(reason) {
  st.failures.push(reason);
}

function maybeFinish() {
  if (st.deregistered && st.opsDone) {
    if (st.updatesAfterExecute === 0) fail('no Update received after the Execute of /1/0/8');
    say(`NOTIFICATIONS /3303/0/5700 ${st.notifications.length} ${st.notifications.slice(0, 3).join(' ')}`);
    if (st.notifications.length === 0) fail('no notification of /3303/0/5700 after the Observe');
    finish();
  }
}

const overall = setTimeout(() => {
  fail(`timeout after ${TIMEOUT_S}s (stage: ${st.stage})`);
  finish();
}, TIMEOUT_S * 1000);
overall.unref();

process.on('SIGTERM', () => { fail('terminated'); finish(); });
process.on('SIGINT', () => { fail('interrupted'); finish(); });

// --- server-initiated operations -----------------------------------------------------------------
function errText(err) {
  return [err.name, err.code, err.message].filter(Boolean).join(' ');
}

function oneLine(v) {
  return String(v).replace(/\r?\n/g, '\\n');
}

// LwM2M JSON (11543) by configuration: the library takes the Accept of a Read and the
// Content-Format of a Write from its configuration object, which it keeps by reference.
const JSON_FORMAT = 'application/vnd.oma.lwm2m+json';
function withFormat(key, format, start) {
  return (cb) => {
    const before = config[key];
    config[key] = format;
    start((err, value) => { config[key] = before; cb(err, value); });
  };
}

// A JSON payload as "n=value,..." (value: v, sv or bv), sorted by name; or the raw text.
function jsonEntries(text) {
  try {
    const doc = JSON.parse(text);
    return doc.e.map((e) => `${e.n}=${e.v !== undefined ? e.v : (e.sv !== undefined ? e.sv : e.bv)}`)
      .sort((a, b) => parseInt(a, 10) - parseInt(b, 10)).join(',');
  } catch (e) {
    return `unparsed:${oneLine(text)}`;
  }
}

function runOps(id, lifetime, payload) {
  const ops = [
    ['READ', '/3/0/0', (cb) => srv.read(id, '3', '0', '0', cb), (v) => `ok ${oneLine(v)}`],
    // The demo's temperature changes every 0.5 s and the client signals it: notifications
    // follow (non-confirmable: this server never acknowledges a confirmable one).
    ['OBSERVE', '/3303/0/5700', (cb) => srv.observe(id, '3303', '0', '5700',
      (v) => st.notifications.push(oneLine(v)), cb), (v) => `ok ${oneLine(v)}`],
    ['WRITE', '/1/0/1', (cb) => srv.write(id, '1', '0', '1', String(lifetime), cb), () => 'ok'],
    // An empty resource id makes the path /3/0: a Read of the whole instance.
    ['READ_JSON', '/3/0', withFormat('defaultAcceptFormat', JSON_FORMAT, (cb) => srv.read(id, '3', '0', '', cb)),
      (v) => `ok ${jsonEntries(v)}`],
    ['WRITE_JSON', '/1/0/1', withFormat('writeFormat', JSON_FORMAT,
      (cb) => srv.write(id, '1', '0', '1', `{"bn":"/1/0/","e":[{"n":"1","v":${lifetime}}]}`, cb)), () => 'ok'],
    ['READ', '/1/0/1', (cb) => srv.read(id, '1', '0', '1', cb), (v) => `ok ${oneLine(v)}`],
    ['EXECUTE', '/1/0/8', (cb) => { st.executeSentAt = Date.now(); srv.execute(id, '1', '0', '8', '', cb); },
      () => 'ok'],
    ['WRITE_ATTRIBUTES', '/3/0', (cb) => srv.writeAttributes(id, '3', '0', undefined, { pmin: 5, pmax: 60 }, cb),
      () => 'ok'],
    ['DISCOVER', '/3/0', (cb) => srv.discover(id, '3', '0', cb), (v) => `ok ${oneLine(v)}`],
  ];
  // The POSIX demo's Schedule object (33001): a replacing JSON Write of its multiple
  // resource Times, read back in JSON, and an Execute with arguments (text/plain).
  if (/(^|,)<\/33001\/0>/.test(payload || '')) {
    ops.push(
      ['WRITE_JSON', '/33001/0/1', withFormat('writeFormat', JSON_FORMAT, (cb) => srv.write(id, '33001', '0', '1',
        '{"bn":"/33001/0/1/","e":[{"n":"0","v":555},{"n":"2","v":777}]}', cb)), () => 'ok'],
      ['READ_JSON', '/33001/0/1', withFormat('defaultAcceptFormat', JSON_FORMAT,
        (cb) => srv.read(id, '33001', '0', '1', cb)), (v) => `ok ${jsonEntries(v)}`],
      ['EXECUTE_ARGS', '/33001/0/2', (cb) => srv.execute(id, '33001', '0', '2', "0='node',1", cb), () => 'ok'],
    );
  }
  let i = 0;
  const next = () => {
    if (i >= ops.length) {
      st.opsDone = true;
      st.stage = st.updatesAfterExecute ? 'waiting for De-register' : 'waiting for Update';
      maybeFinish();
      return;
    }
    const [name, path, start, ok] = ops[i++];
    st.stage = `${name} ${path}`;
    let done = false;
    const t = setTimeout(() => {
      if (done) return;
      done = true;
      say(`${name} ${path} error timeout after ${OP_TIMEOUT_S}s`);
      fail(`${name} ${path}: no answer within ${OP_TIMEOUT_S}s`);
      next();
    }, OP_TIMEOUT_S * 1000);
    try {
      start((err, value) => {
        if (done) return;
        done = true;
        clearTimeout(t);
        if (err) {
          say(`${name} ${path} error ${errText(err)}`);
          fail(`${name} ${path}: ${errText(err)}`);
        } else {
          say(`${name} ${path} ${ok(value)}`);
        }
        next();
      });
    } catch (e) {
      done = true;
      clearTimeout(t);
      say(`${name} ${path} error exception ${e.message}`);
      fail(`${name} ${path}: exception ${e.message}`);
      next();
    }
  };
  next();
}

// --- server --------------------------------------------------------------------------------------
const config = {
  port: PORT,
  defaultType: 'Device',               // registrations without &type= get this type
  types: [],
  lifetimeCheckInterval: 1000,
  udpWindow: 100,
  logLevel: process.env.LOG_LEVEL || 'FATAL',
  serverProtocol: 'udp4',
  ipProtocol: 'udp4',
  // Formats node-coap may meet in client answers (unknown numbers make its decoder throw).
  formats: [
    { name: 'application/vnd.oma.lwm2m+text-legacy', value: 1541 },
    { name: 'application/senml+json', value: 110 },
    { name: 'application/senml+cbor', value: 112 },
    { name: 'application/vnd.oma.lwm2m+tlv', value: 11542 },
    { name: 'application/vnd.oma.lwm2m+json', value: 11543 },
  ],
  writeFormat: 'text/plain',           // configuration: standard 0 instead of the default 1541
  defaultAcceptFormat: 'text/plain',
};

st.stage = 'starting server';
srv.start(config, (err, info) => {
  if (err) {
    fail(`server start on ${HOST}:${PORT}: ${errText(err)}${err.code === 'EADDRINUSE' ? ' (port taken)' : ''}`);
    finish();
    return;
  }
  if (finished) return;
  serverInfo = info;
  const actual = info.server._sock.address();
  // The library reaches its own proxy at config.port: make it the port actually bound.
  config.port = actual.port;
  say(`LISTENING ${actual.port}`);
  st.stage = 'waiting for Register';

  info.server.prependListener('request', (req) => {
    if (req.rsinfo) say(`RX ${req.method} ${req.url} from ${req.rsinfo.address}:${req.rsinfo.port}`);
  });

  srv.setHandler(info, 'registration', (ep, lt, version, binding, payload, cb) => {
    cb();
    if (ep !== EP) { say(`IGNORED registration of ep=${ep}`); return; }
    if (st.registered) { fail(`second Register of ep=${ep}`); return; }
    srv.getDevice(ep, (e, dev) => {
      if (e) { fail(`registered device not found: ${errText(e)}`); finish(); return; }
      st.registered = { id: dev.id, lt };
      say(`REGISTERED ep=${ep} lt=${lt} b=${binding} lwm2m=${version} id=${dev.id} ` +
          `from=${dev.address}:${dev.port} payload=${oneLine(payload)}`);
      // A short pause lets the client process the Register response before requests arrive.
      setTimeout(() => runOps(dev.id, lt === undefined ? '86400' : lt, payload), 200);
    });
  });

  srv.setHandler(info, 'updateRegistration', (obj, payload, cb) => {
    cb();
    if (!obj || obj.name !== EP) return;
    if (st.executeSentAt) st.updatesAfterExecute += 1;
    say(`UPDATED ep=${obj.name} id=${obj.id} lt=${obj.lifetime} payload=${oneLine(payload)}`);
    if (st.opsDone && !st.deregistered) st.stage = 'waiting for De-register';
  });

  // The library also calls this handler when a registration's lifetime expires.
  srv.setHandler(info, 'unregistration', (obj, cb) => {
    cb();
    if (!obj || obj.name !== EP) return;
    const age = Date.now() - new Date(obj.creationDate).getTime();
    if (obj.lifetime && age > Number(obj.lifetime) * 1000) {
      say(`EXPIRED ep=${obj.name}`);
      fail('registration expired (lifetime elapsed without Update)');
      finish();
      return;
    }
    say(`DEREGISTERED ep=${obj.name} id=${obj.id}`);
    st.deregistered = true;
    if (!st.opsDone) {
      fail(`De-register arrived before the operations finished (stage: ${st.stage})`);
      finish();
      return;
    }
    maybeFinish();
  });
});
