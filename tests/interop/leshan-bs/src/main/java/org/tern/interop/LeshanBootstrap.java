/*
 * Interop scenario: an Eclipse Leshan bootstrap server (library, default settings, plain CoAP
 * on 127.0.0.1 only) that bootstraps one client: Bootstrap-Delete of "/", Bootstrap-Write of
 * its own Security instance (/0/0) and of one LwM2M server's Security (/0/1) and Server (/1/0)
 * instances, then Bootstrap-Finish. Every step is reported as one line on stdout. With
 * --psk-identity and --psk-key the LwM2M server's account is in Pre-Shared Key mode (a
 * coaps:// URI, the identity in resource 3 and the key in resource 5), otherwise NoSec.
 * With the three --rpk-* files (PKCS#8 and SubjectPublicKeyInfo DER) the LwM2M server's
 * account is in Raw Public Key mode instead (resources 3, 4 and 5: the client's public key,
 * the server's, the client's private key).
 * With --secure-identity and --secure-key the bootstrap server itself listens only on DTLS
 * with that pre-shared key for the endpoint, and writes its own account in PSK mode.
 * With --secure-rpk-private and --secure-rpk-public (its own P-256 key pair, PKCS#8 and
 * SubjectPublicKeyInfo DER) it listens only on DTLS with raw public keys instead (any client
 * key trusted), and writes its own account in RPK mode with the client's keys from
 * --rpk-client-private and --rpk-client-public, which it then needs.
 *
 * Usage: LeshanBootstrap --endpoint EP --server-uri coap(s)://HOST:PORT [--port N] [--ssid N]
 *                        [--lifetime SECONDS] [--timeout SECONDS] [--verbose]
 *                        [--psk-identity ID --psk-key HEX]
 *                        [--secure-identity ID --secure-key HEX]
 *                        [--secure-rpk-private P8 --secure-rpk-public DER]
 *                        [--rpk-client-private P8 --rpk-client-public DER --rpk-server-public DER]
 *
 * Output lines (stdout, one per event, flushed):
 *   LISTENING <port>
 *   BOOTSTRAP_REQUEST ep=<ep>
 *   SECURE identity=<psk identity|rpk>  the request came over DTLS (with --secure-*)
 *   OK <request> <path>             the client answered the request with a success code
 *   ERROR <request> <path> <code>   the client answered with an error code
 *   BOOTSTRAPPED ep=<ep>            Bootstrap-Finish succeeded
 *   FAIL <reason>                   a step failed, or the timeout passed first
 * Exit status 0 only after BOOTSTRAPPED.
 *
 * SPDX-License-Identifier: Apache-2.0 OR MIT
 */
package org.tern.interop;

import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.security.KeyFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.eclipse.leshan.core.SecurityMode;
import org.eclipse.leshan.core.request.BindingMode;
import org.eclipse.leshan.core.request.BootstrapRequest;
import org.eclipse.leshan.core.request.DownlinkRequest;
import org.eclipse.leshan.core.request.Identity;
import org.eclipse.leshan.core.response.LwM2mResponse;
import org.eclipse.leshan.server.bootstrap.BootstrapConfig;
import org.eclipse.leshan.server.bootstrap.BootstrapFailureCause;
import org.eclipse.leshan.server.bootstrap.BootstrapSession;
import org.eclipse.leshan.server.bootstrap.BootstrapSessionManager.BootstrapPolicy;
import org.eclipse.leshan.server.bootstrap.DefaultBootstrapSessionManager;
import org.eclipse.leshan.server.bootstrap.InMemoryBootstrapConfigStore;
import org.eclipse.leshan.server.bootstrap.InvalidConfigurationException;
import org.eclipse.leshan.server.californium.bootstrap.LeshanBootstrapServer;
import org.eclipse.leshan.server.californium.bootstrap.LeshanBootstrapServerBuilder;
import org.eclipse.leshan.server.security.BootstrapSecurityStore;
import org.eclipse.leshan.server.security.SecurityInfo;

public final class LeshanBootstrap {
    private static final PrintStream OUT = System.out;

    private int port = 0;
    private String endpoint = null;
    private String serverUri = null;
    private int ssid = 1;
    private int lifetime = 60;
    private long timeoutSec = 60;
    private boolean verbose = false;
    private String pskIdentity = null;
    private byte[] pskKey = null;
    private byte[] rpkClientPrivate = null;
    private byte[] rpkClientPublic = null;
    private byte[] rpkServerPublic = null;
    private String secureIdentity = null;
    private byte[] secureKey = null;
    private byte[] secureRpkPrivate = null;
    private byte[] secureRpkPublic = null;
    /** Completed with null when Finish succeeded, or with the reason it failed. */
    private final CompletableFuture<String> outcome = new CompletableFuture<>();

    public static void main(String[] args) {
        LeshanBootstrap s = new LeshanBootstrap();
        int rc;
        try {
            s.parseArgs(args);
            rc = s.run();
        } catch (IllegalArgumentException e) {
            System.err.println("usage: LeshanBootstrap --endpoint EP --server-uri URI [--port N] [--ssid N]"
                    + " [--lifetime S] [--timeout S] [--verbose]");
            say("FAIL bad arguments: " + e.getMessage());
            rc = 2;
        }
        // Californium threads are not all daemons: leave explicitly.
        System.exit(rc);
    }

    private static synchronized void say(String line) {
        OUT.println(line);
        OUT.flush();
    }

    private void parseArgs(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
            case "--port":
                port = bounded(value(args, ++i, a), 0, 65535, a);
                break;
            case "--endpoint":
                endpoint = value(args, ++i, a);
                break;
            case "--server-uri":
                serverUri = value(args, ++i, a);
                break;
            case "--ssid":
                ssid = bounded(value(args, ++i, a), 1, 65534, a);
                break;
            case "--lifetime":
                lifetime = bounded(value(args, ++i, a), 1, Integer.MAX_VALUE, a);
                break;
            case "--timeout":
                timeoutSec = bounded(value(args, ++i, a), 1, 3600, a);
                break;
            case "--verbose":
                verbose = true;
                break;
            case "--psk-identity":
                pskIdentity = value(args, ++i, a);
                break;
            case "--psk-key":
                pskKey = LeshanDtls.hex(value(args, ++i, a));
                break;
            case "--rpk-client-private":
                rpkClientPrivate = file(value(args, ++i, a));
                break;
            case "--rpk-client-public":
                rpkClientPublic = file(value(args, ++i, a));
                break;
            case "--rpk-server-public":
                rpkServerPublic = file(value(args, ++i, a));
                break;
            case "--secure-identity":
                secureIdentity = value(args, ++i, a);
                break;
            case "--secure-key":
                secureKey = LeshanDtls.hex(value(args, ++i, a));
                break;
            case "--secure-rpk-private":
                secureRpkPrivate = file(value(args, ++i, a));
                break;
            case "--secure-rpk-public":
                secureRpkPublic = file(value(args, ++i, a));
                break;
            default:
                throw new IllegalArgumentException("unknown argument " + a);
            }
        }
        if (endpoint == null || serverUri == null)
            throw new IllegalArgumentException("--endpoint and --server-uri are required");
        if ((pskIdentity == null) != (pskKey == null))
            throw new IllegalArgumentException("--psk-identity and --psk-key go together");
        if ((secureIdentity == null) != (secureKey == null))
            throw new IllegalArgumentException("--secure-identity and --secure-key go together");
        if ((secureRpkPrivate == null) != (secureRpkPublic == null))
            throw new IllegalArgumentException("--secure-rpk-private and --secure-rpk-public go together");
        if (secureRpkPrivate != null && (secureKey != null || rpkClientPrivate == null || rpkClientPublic == null))
            throw new IllegalArgumentException(
                    "--secure-rpk-* need --rpk-client-private and --rpk-client-public, and no --secure-key");
    }

    private static byte[] file(String path) {
        try {
            return java.nio.file.Files.readAllBytes(java.nio.file.Paths.get(path));
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot read " + path + ": " + e.getMessage());
        }
    }

    private static String value(String[] args, int i, String name) {
        if (i >= args.length)
            throw new IllegalArgumentException(name + " needs a value");
        return args[i];
    }

    private static int bounded(String v, int min, int max, String name) {
        int n = Integer.parseInt(v);
        if (n < min || n > max)
            throw new IllegalArgumentException(name + " out of range");
        return n;
    }

    private int run() {
        // Library logging goes to stderr; quiet unless asked.
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "debug" : "warn");
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");

        InMemoryBootstrapConfigStore store = new InMemoryBootstrapConfigStore();
        LeshanBootstrapServerBuilder builder = new LeshanBootstrapServerBuilder();
        boolean secure = secureKey != null || secureRpkPrivate != null;
        if (secureRpkPrivate != null) {
            builder.setLocalSecureAddress(new InetSocketAddress("127.0.0.1", port));
            builder.disableUnsecuredEndpoint();
            try {
                KeyFactory ec = KeyFactory.getInstance("EC");
                builder.setPrivateKey(ec.generatePrivate(new PKCS8EncodedKeySpec(secureRpkPrivate)));
                builder.setPublicKey(ec.generatePublic(new X509EncodedKeySpec(secureRpkPublic)));
            } catch (Exception e) {
                say("FAIL keys: " + e.getClass().getSimpleName() + ": " + e.getMessage());
                return 2;
            }
        } else if (secure) {
            builder.setLocalSecureAddress(new InetSocketAddress("127.0.0.1", port));
            builder.disableUnsecuredEndpoint();
            SecurityInfo info = SecurityInfo.newPreSharedKeyInfo(endpoint, secureIdentity, secureKey);
            builder.setSecurityStore(new BootstrapSecurityStore() {
                @Override
                public List<SecurityInfo> getAllByEndpoint(String ep) {
                    return endpoint.equals(ep) ? List.of(info) : List.of();
                }

                @Override
                public SecurityInfo getByIdentity(String identity) {
                    return secureIdentity.equals(identity) ? info : null;
                }
            });
        } else {
            builder.setLocalAddress(new InetSocketAddress("127.0.0.1", port));
            builder.disableSecuredEndpoint();
        }
        builder.setConfigStore(store);
        builder.setSessionManager(new ReportingSessionManager());
        LeshanBootstrapServer server = builder.build();
        try {
            server.start();
            int bound = secure ? server.getSecuredAddress().getPort() : server.getUnsecuredAddress().getPort();
            store.add(endpoint, config((secure ? "coaps" : "coap") + "://127.0.0.1:" + bound));
            say("LISTENING " + bound);
            String failure = outcome.get(timeoutSec, TimeUnit.SECONDS);
            if (failure != null) {
                say("FAIL " + failure);
                return 1;
            }
            return 0;
        } catch (TimeoutException e) {
            say("FAIL timeout waiting for the bootstrap to finish");
            return 1;
        } catch (InvalidConfigurationException e) {
            say("FAIL configuration refused: " + e.getMessage());
            return 1;
        } catch (Exception e) {
            say("FAIL " + e.getClass().getSimpleName() + ": " + e.getMessage());
            if (verbose)
                e.printStackTrace();
            return 1;
        } finally {
            try {
                server.destroy();
            } catch (RuntimeException e) {
                // leaving anyway
            }
        }
    }

    /** "/" deleted, then the bootstrap account, one LwM2M server (NoSec or PSK) and its Server instance. */
    private BootstrapConfig config(String bootstrapUri) {
        BootstrapConfig c = new BootstrapConfig();
        c.toDelete = new ArrayList<>(List.of("/"));
        c.security = new HashMap<>();
        c.servers = new HashMap<>();

        BootstrapConfig.ServerSecurity bs = new BootstrapConfig.ServerSecurity();
        bs.uri = bootstrapUri;
        bs.bootstrapServer = true;
        bs.securityMode = secureKey == null ? SecurityMode.NO_SEC : SecurityMode.PSK;
        bs.publicKeyOrId = secureIdentity == null ? new byte[0]
                : secureIdentity.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        bs.serverPublicKey = new byte[0];
        bs.secretKey = secureKey == null ? new byte[0] : secureKey;
        if (secureRpkPrivate != null) {
            bs.securityMode = SecurityMode.RPK;
            bs.publicKeyOrId = rpkClientPublic;
            bs.serverPublicKey = secureRpkPublic;
            bs.secretKey = rpkClientPrivate;
        }
        bs.serverId = 0; // Leshan 1.x wants one; a bootstrap account has no Short Server ID of its own
        c.security.put(0, bs);

        BootstrapConfig.ServerSecurity dm = new BootstrapConfig.ServerSecurity();
        dm.uri = serverUri;
        dm.bootstrapServer = false;
        dm.securityMode = pskKey == null ? SecurityMode.NO_SEC : SecurityMode.PSK;
        dm.publicKeyOrId = pskIdentity == null ? new byte[0]
                : pskIdentity.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        dm.serverPublicKey = new byte[0];
        dm.secretKey = pskKey == null ? new byte[0] : pskKey;
        if (rpkClientPrivate != null && rpkClientPublic != null && rpkServerPublic != null) {
            dm.securityMode = SecurityMode.RPK;
            dm.publicKeyOrId = rpkClientPublic;
            dm.serverPublicKey = rpkServerPublic;
            dm.secretKey = rpkClientPrivate;
        }
        dm.serverId = ssid;
        c.security.put(1, dm);

        BootstrapConfig.ServerConfig srv = new BootstrapConfig.ServerConfig();
        srv.shortId = ssid;
        srv.lifetime = lifetime;
        srv.binding = BindingMode.U;
        c.servers.put(0, srv);
        return c;
    }

    private static String describe(DownlinkRequest<? extends LwM2mResponse> request) {
        String kind = request.getClass().getSimpleName().replace("Request", "");
        return kind + " " + request.getPath();
    }

    /** Leshan's session manager (no security store: every client is authorized), reporting. */
    private final class ReportingSessionManager extends DefaultBootstrapSessionManager {
        ReportingSessionManager() {
            super(null);
        }

        @Override
        public BootstrapSession begin(BootstrapRequest request, Identity clientIdentity) {
            say("BOOTSTRAP_REQUEST ep=" + request.getEndpointName());
            if (clientIdentity.isSecure())
                say("SECURE identity=" + (clientIdentity.isRPK() ? "rpk" : clientIdentity.getPskIdentity()));
            return super.begin(request, clientIdentity);
        }

        @Override
        public void onResponseSuccess(BootstrapSession session,
                DownlinkRequest<? extends LwM2mResponse> request) {
            say("OK " + describe(request));
            super.onResponseSuccess(session, request);
        }

        @Override
        public BootstrapPolicy onResponseError(BootstrapSession session,
                DownlinkRequest<? extends LwM2mResponse> request, LwM2mResponse response) {
            say("ERROR " + describe(request) + " " + response.getCode().getCode());
            return super.onResponseError(session, request, response);
        }

        @Override
        public BootstrapPolicy onRequestFailure(BootstrapSession session,
                DownlinkRequest<? extends LwM2mResponse> request, Throwable cause) {
            say("ERROR " + describe(request) + " " + cause.getClass().getSimpleName());
            return super.onRequestFailure(session, request, cause);
        }

        @Override
        public void end(BootstrapSession session) {
            say("BOOTSTRAPPED ep=" + session.getEndpoint());
            super.end(session);
            outcome.complete(null);
        }

        @Override
        public void failed(BootstrapSession session, BootstrapFailureCause cause) {
            super.failed(session, cause);
            outcome.complete("bootstrap failed: " + cause);
        }
    }
}
