/*
 * Interop scenario: an Eclipse Leshan LwM2M server (1.x library, default settings) with only
 * its DTLS endpoint, on 127.0.0.1, that knows one client by a pre-shared key or by its raw
 * public key (RFC 7250; the server then has a P-256 key pair of its own). It waits for the
 * client to register over DTLS, reads /3/0/0 and /3/0 (TLV), observes the temperature
 * (/3303/0/5700) until a notification comes, waits for the de-registration, and reports every
 * step as one line on stdout. With --disable S, after the notification it writes the Disable
 * Timeout (/1/0/5) to S seconds and executes Disable (/1/0/4): the client must de-register,
 * then register again over DTLS on a new connection after S seconds.
 *
 * Usage: LeshanDtls --endpoint EP --identity ID --key HEX [--port N] [--timeout SECONDS]
 *                   [--verbose]
 *        LeshanDtls --endpoint EP --rpk-client-public DER --rpk-server-private DER
 *                   --rpk-server-public DER [--port N] [--timeout SECONDS] [--verbose]
 *   (either form also takes [--disable SECONDS])
 *   (DER files: SubjectPublicKeyInfo for public keys, PKCS#8 for the private key)
 *
 * Output lines (stdout, one per event, flushed):
 *   LISTENING <port>
 *   REGISTERED ep=<ep> lt=<lifetime> lwm2m=<version> secure=<true|false> identity=<psk identity|rpk>
 *   READ /3/0/0 <code> <value>
 *   READ /3/0 <code> <number of resources>
 *   OBSERVE /3303/0/5700 <code>
 *   NOTIFY /3303/0/5700 <value>
 *   DISABLE <code of the Write of /1/0/5> <code of the Execute of /1/0/4>   (--disable)
 *   DISABLED                                    (--disable: the client de-registered)
 *   REGISTERED AGAIN secure=<true|false> identity=<psk identity|rpk>   (--disable)
 *   DEREGISTERED
 *   FAIL <reason>
 * Exit status 0 only after DEREGISTERED.
 *
 * SPDX-License-Identifier: Apache-2.0 OR MIT
 */
package org.tern.interop;

import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Collection;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.eclipse.leshan.core.node.LwM2mObjectInstance;
import org.eclipse.leshan.core.node.LwM2mSingleResource;
import org.eclipse.leshan.core.observation.Observation;
import org.eclipse.leshan.core.request.ContentFormat;
import org.eclipse.leshan.core.request.ExecuteRequest;
import org.eclipse.leshan.core.request.ObserveRequest;
import org.eclipse.leshan.core.request.ReadRequest;
import org.eclipse.leshan.core.request.WriteRequest;
import org.eclipse.leshan.core.request.exception.RequestCanceledException;
import org.eclipse.leshan.core.response.LwM2mResponse;
import org.eclipse.leshan.core.response.ObserveResponse;
import org.eclipse.leshan.core.response.ReadResponse;
import org.eclipse.leshan.core.response.WriteResponse;
import org.eclipse.leshan.server.californium.LeshanServer;
import org.eclipse.leshan.server.californium.LeshanServerBuilder;
import org.eclipse.leshan.server.registration.Registration;
import org.eclipse.leshan.server.registration.RegistrationListener;
import org.eclipse.leshan.server.registration.RegistrationUpdate;
import org.eclipse.leshan.server.observation.ObservationListener;
import org.eclipse.leshan.server.security.InMemorySecurityStore;
import org.eclipse.leshan.server.security.SecurityInfo;

public final class LeshanDtls {
    private static final PrintStream OUT = System.out;

    private int port = 0;
    private String endpoint = null;
    private String identity = null;
    private byte[] key = null;
    private String rpkClientPublic = null;
    private String rpkServerPrivate = null;
    private String rpkServerPublic = null;
    private long timeoutSec = 60;
    private boolean verbose = false;
    private long disableSec = 0;
    private final BlockingQueue<Object[]> events = new LinkedBlockingQueue<>();

    public static void main(String[] args) {
        LeshanDtls s = new LeshanDtls();
        int rc;
        try {
            s.parseArgs(args);
            rc = s.run();
        } catch (IllegalArgumentException e) {
            System.err.println("usage: LeshanDtls --endpoint EP --identity ID --key HEX [--port N] [--timeout S]");
            say("FAIL bad arguments: " + e.getMessage());
            rc = 2;
        }
        System.exit(rc);
    }

    private static synchronized void say(String line) {
        OUT.println(line);
        OUT.flush();
    }

    private void parseArgs(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (a) {
            case "--port":
                port = Integer.parseInt(need(v, a));
                i++;
                break;
            case "--endpoint":
                endpoint = need(v, a);
                i++;
                break;
            case "--identity":
                identity = need(v, a);
                i++;
                break;
            case "--key":
                key = hex(need(v, a));
                i++;
                break;
            case "--rpk-client-public":
                rpkClientPublic = need(v, a);
                i++;
                break;
            case "--rpk-server-private":
                rpkServerPrivate = need(v, a);
                i++;
                break;
            case "--rpk-server-public":
                rpkServerPublic = need(v, a);
                i++;
                break;
            case "--timeout":
                timeoutSec = Long.parseLong(need(v, a));
                i++;
                break;
            case "--verbose":
                verbose = true;
                break;
            case "--disable":
                disableSec = Long.parseLong(need(v, a));
                i++;
                break;
            default:
                throw new IllegalArgumentException("unknown argument " + a);
            }
        }
        boolean rpk = rpkClientPublic != null && rpkServerPrivate != null && rpkServerPublic != null;
        if (endpoint == null || (!rpk && (identity == null || key == null)))
            throw new IllegalArgumentException(
                    "--endpoint, and --identity and --key or the three --rpk-* keys are required");
    }

    private static String need(String v, String name) {
        if (v == null)
            throw new IllegalArgumentException(name + " needs a value");
        return v;
    }

    static byte[] hex(String s) {
        if (s.length() % 2 != 0)
            throw new IllegalArgumentException("odd hex length");
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++)
            b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        return b;
    }

    private int run() {
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "debug" : "warn");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSec);

        InMemorySecurityStore security = new InMemorySecurityStore();
        LeshanServerBuilder builder = new LeshanServerBuilder();
        builder.disableUnsecuredEndpoint();
        builder.setLocalSecureAddress(new InetSocketAddress("127.0.0.1", port));
        builder.setSecurityStore(security);
        SecurityInfo info;
        try {
            if (rpkClientPublic != null) {
                KeyFactory ec = KeyFactory.getInstance("EC");
                PublicKey client = ec.generatePublic(
                        new X509EncodedKeySpec(Files.readAllBytes(Paths.get(rpkClientPublic))));
                PrivateKey serverPrivate = ec.generatePrivate(
                        new PKCS8EncodedKeySpec(Files.readAllBytes(Paths.get(rpkServerPrivate))));
                PublicKey serverPublic = ec.generatePublic(
                        new X509EncodedKeySpec(Files.readAllBytes(Paths.get(rpkServerPublic))));
                builder.setPrivateKey(serverPrivate);
                builder.setPublicKey(serverPublic);
                info = SecurityInfo.newRawPublicKeyInfo(endpoint, client);
            } else {
                info = SecurityInfo.newPreSharedKeyInfo(endpoint, identity, key);
            }
        } catch (Exception e) {
            say("FAIL keys: " + e.getClass().getSimpleName() + ": " + e.getMessage());
            return 2;
        }
        LeshanServer server = builder.build();
        server.getRegistrationService().addListener(new RegistrationListener() {
            @Override
            public void registered(Registration r, Registration previous, Collection<Observation> observations) {
                events.add(new Object[] { "REGISTERED", r });
            }

            @Override
            public void updated(RegistrationUpdate update, Registration updated, Registration previous) {
            }

            @Override
            public void unregistered(Registration r, Collection<Observation> observations, boolean expired,
                    Registration newReg) {
                events.add(new Object[] { expired ? "EXPIRED" : "DEREGISTERED", r });
            }
        });
        server.getObservationService().addListener(new ObservationListener() {
            @Override
            public void newObservation(Observation o, Registration r) {
            }

            @Override
            public void cancelled(Observation o) {
            }

            @Override
            public void onResponse(Observation o, Registration r, ObserveResponse response) {
                events.add(new Object[] { "NOTIFY", response });
            }

            @Override
            public void onError(Observation o, Registration r, Exception e) {
            }
        });
        try {
            security.add(info);
            server.start();
            say("LISTENING " + server.getSecuredAddress().getPort());
            Registration r = (Registration) next("REGISTERED", deadline)[1];
            say("REGISTERED ep=" + r.getEndpoint() + " lt=" + r.getLifeTimeInSec() + " lwm2m="
                    + r.getLwM2mVersion() + " secure=" + r.getIdentity().isSecure() + " identity="
                    + (r.getIdentity().isRPK() ? "rpk" : r.getIdentity().getPskIdentity()));
            ReadResponse name = server.send(r, new ReadRequest(3, 0, 0), 10_000);
            say("READ /3/0/0 " + code(name) + " " + (name != null && name.getContent() instanceof LwM2mSingleResource
                    ? ((LwM2mSingleResource) name.getContent()).getValue()
                    : "-"));
            ReadResponse device = server.send(r, new ReadRequest(ContentFormat.TLV, 3, 0), 10_000);
            say("READ /3/0 " + code(device) + " " + (device != null && device.getContent() instanceof LwM2mObjectInstance
                    ? ((LwM2mObjectInstance) device.getContent()).getResources().size()
                    : 0));
            ObserveResponse observed = server.send(r, new ObserveRequest(3303, 0, 5700), 10_000);
            say("OBSERVE /3303/0/5700 " + (observed == null ? "timeout" : Integer.toString(observed.getCode().getCode())));
            ObserveResponse note = (ObserveResponse) next("NOTIFY", deadline)[1];
            say("NOTIFY /3303/0/5700 " + (note.getContent() instanceof LwM2mSingleResource
                    ? ((LwM2mSingleResource) note.getContent()).getValue()
                    : "-"));
            if (disableSec > 0)
                disableAndBack(server, r, deadline);
            next("DEREGISTERED", deadline);
            say("DEREGISTERED");
            return 0;
        } catch (Failure f) {
            say("FAIL " + f.getMessage());
            return 1;
        } catch (Exception e) {
            say("FAIL " + e.getClass().getSimpleName() + ": " + e.getMessage());
            if (verbose)
                e.printStackTrace();
            return 1;
        } finally {
            linger();
            try {
                server.destroy();
            } catch (RuntimeException e) {
                // leaving anyway
            }
        }
    }

    /** Disables the client for disableSec seconds; it must come back over DTLS. */
    private void disableAndBack(LeshanServer server, Registration r, long deadline)
            throws Failure, InterruptedException {
        WriteResponse timeout = server.send(r, new WriteRequest(1, 0, 5, disableSec), 10_000);
        String disable;
        try {
            disable = code(server.send(r, new ExecuteRequest(1, 0, 4), 10_000));
        } catch (RequestCanceledException e) {
            // The client sends its 2.04 and then its De-register at once; Leshan may handle
            // the De-register first and then cancels the Execute still waiting for its answer.
            disable = "cancelled-by-deregister";
        }
        say("DISABLE " + code(timeout) + " " + disable);
        next("DEREGISTERED", deadline);
        say("DISABLED");
        Registration again = (Registration) next("REGISTERED", deadline)[1];
        say("REGISTERED AGAIN secure=" + again.getIdentity().isSecure() + " identity="
                + (again.getIdentity().isRPK() ? "rpk" : again.getIdentity().getPskIdentity()));
    }

    private static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;

        Failure(String m) {
            super(m);
        }
    }

    private Object[] next(String kind, long deadline) throws Failure, InterruptedException {
        while (true) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            Object[] e = left > 0 ? events.poll(left, TimeUnit.MILLISECONDS) : null;
            if (e == null)
                throw new Failure("timeout waiting for " + kind);
            if (kind.equals(e[0]))
                return e;
        }
    }

    private static String code(LwM2mResponse r) {
        return r == null ? "timeout" : Integer.toString(r.getCode().getCode());
    }

    /**
     * Leshan tells its listeners of a De-register before it sends the 2.02: the response
     * gets time to leave before the server goes (else the client retransmits to no one).
     */
    private static void linger() {
        try {
            Thread.sleep(1_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
