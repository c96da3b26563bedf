/*
 * A DTLS 1.2 echo server on Eclipse Californium's Scandium, for tern's DTLS tests: one
 * pre-shared key, TLS_PSK_WITH_AES_128_CCM_8 only, Connection ID (RFC 9146) with 6-byte
 * CIDs, bound to 127.0.0.1. Every application record that arrives goes back, prefixed with
 * "echo:", to the address the record came from (so a client that changed its address but
 * kept its CID gets the answer at the new one).
 *
 * Usage: ScandiumEcho --identity ID --key HEX [--port N] [--timeout SECONDS] [--verbose]
 *
 * Output lines (stdout, flushed):
 *   LISTENING <port>
 *   DATA <source port> <length>       for each record echoed
 *   FAIL <reason>
 * Exits after --timeout seconds (default 60) or at stdin EOF.
 *
 * SPDX-License-Identifier: Apache-2.0 OR MIT
 */
package org.tern.interop;

import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import org.eclipse.californium.elements.RawData;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.eclipse.californium.scandium.dtls.SingleNodeConnectionIdGenerator;
import org.eclipse.californium.scandium.dtls.cipher.CipherSuite;
import org.eclipse.californium.scandium.dtls.pskstore.SinglePskStore;

public final class ScandiumEcho {
    private static final PrintStream OUT = System.out;

    private static synchronized void say(String line) {
        OUT.println(line);
        OUT.flush();
    }

    public static void main(String[] args) throws Exception {
        int port = 0;
        String identity = null;
        byte[] key = null;
        long timeoutSec = 60;
        boolean verbose = false;
        for (int i = 0; i < args.length; i++) {
            String v = i + 1 < args.length ? args[i + 1] : "";
            switch (args[i]) {
            case "--port": port = Integer.parseInt(v); i++; break;
            case "--identity": identity = v; i++; break;
            case "--key": key = hex(v); i++; break;
            case "--timeout": timeoutSec = Long.parseLong(v); i++; break;
            case "--verbose": verbose = true; break;
            default:
                say("FAIL unknown argument " + args[i]);
                System.exit(2);
            }
        }
        if (identity == null || key == null) {
            say("FAIL --identity and --key are required");
            System.exit(2);
        }
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "debug" : "warn");

        DtlsConfig.register();
        Configuration config = Configuration.createStandardWithoutFile();
        DtlsConnectorConfig.Builder builder = DtlsConnectorConfig.builder(config)
                .setAddress(new InetSocketAddress("127.0.0.1", port))
                .set(DtlsConfig.DTLS_ROLE, DtlsConfig.DtlsRole.SERVER_ONLY)
                .setAsList(DtlsConfig.DTLS_CIPHER_SUITES, CipherSuite.TLS_PSK_WITH_AES_128_CCM_8)
                .set(DtlsConfig.DTLS_UPDATE_ADDRESS_USING_CID_ON_NEWER_RECORDS, true)
                .setConnectionIdGenerator(new SingleNodeConnectionIdGenerator(6))
                .setPskStore(new SinglePskStore(identity, key));
        DTLSConnector connector = new DTLSConnector(builder.build());
        connector.setRawDataReceiver(data -> {
            byte[] in = data.getBytes();
            byte[] prefix = "echo:".getBytes(StandardCharsets.US_ASCII);
            byte[] out = new byte[prefix.length + in.length];
            System.arraycopy(prefix, 0, out, 0, prefix.length);
            System.arraycopy(in, 0, out, prefix.length, in.length);
            say("DATA " + data.getInetSocketAddress().getPort() + " " + in.length);
            connector.send(RawData.outbound(out, data.getEndpointContext(), null, false));
        });
        connector.start();
        say("LISTENING " + connector.getAddress().getPort());

        // Ends at stdin EOF or after the timeout, whichever comes first.
        Thread stdin = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                }
            } catch (java.io.IOException e) {
                // leaving anyway
            }
        });
        stdin.setDaemon(true);
        stdin.start();
        stdin.join(TimeUnit.SECONDS.toMillis(timeoutSec));
        connector.destroy();
        System.exit(0);
    }

    private static byte[] hex(String s) {
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++)
            b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        return b;
    }
}
