/*
 * Interop scenario: an Eclipse Leshan LwM2M server (library, default settings, plain CoAP on
 * 127.0.0.1 only) that waits for one client, drives a fixed sequence of device management
 * requests against it and reports every step as one line on stdout.
 *
 * Usage: LeshanScenario [--port N] [--endpoint EP] [--timeout SECONDS]
 *                       [--queue | --bootstrapped | --rebootstrap | --refuse | --read-observe]
 *                       [--verbose]
 *
 * With --read-observe, the short scenario for a device on a slow link (the FreeRTOS image):
 *   REGISTERED ep=<ep> lt=<lifetime> b=<binding> lwm2m=<version>
 *   READ /3/0 <code> manufacturer=<value> model=<value>
 *   OBSERVE /3303/0/5700 <code> <value>
 *   NOTIFY /3303/0/5700 <value>      the first notification after the Observe
 *   DEREGISTERED
 *
 * With --refuse, a server that declines every Register (Leshan answers 4.03 Forbidden):
 *   REFUSED ep=<ep>                 one line per Register declined; exits 0 2 s after the first
 *
 * With --bootstrapped, the scenario for a client a bootstrap server configured:
 *   REGISTERED ep=<ep> lt=<lifetime> b=<binding> lwm2m=<version>
 *   READ /1 <code> <iid>:ssid=<ssid>/lt=<lifetime>, ...   the Server instances it holds
 *   READ /0 <code>                  the Security object, which a DM server may not read
 *   DEREGISTERED
 *
 * With --rebootstrap, a configured client that this server sends back to its bootstrap
 * server, which replaces the client's account with one of another Short Server ID:
 *   REGISTERED ep=<ep> lt=<lifetime>
 *   EXECUTE /1/0/9 <code>           the Bootstrap-Request Trigger
 *   LEFT <DEREGISTERED|REPLACED|REGISTERED>   how the first registration ended
 *   REGISTERED_AGAIN lt=<lifetime>
 *   READ /1 <code> <iid>:ssid=<ssid>/lt=<lifetime>, ...
 *   DEREGISTERED
 *
 * With --queue, a queue-mode scenario instead (Leshan's awake time 2 s, like the client's):
 *   REGISTERED ep=<ep> ... queue=<true|false>
 *   SLEEPING                        Leshan saw the client go to sleep
 *   READ_SLEEPING /3/0/0 refused    a request while it sleeps is not sent
 *   AWAKE                           the client's Update woke it
 *   READ_AWAKE /3/0/0 <code> <value>
 *   DEREGISTERED
 *
 * Output lines (stdout, one per event, flushed):
 *   LISTENING <port>
 *   REGISTERED ep=<ep> lt=<lifetime> b=<binding> lwm2m=<version> objects=<links>
 *   READ /3/0/0 <code> <value>
 *   READ /3/0 <code> <n resources>
 *   READ /2 <code> <iid:oid/oiid/owner=N/acl=ssid=rights,...>...
 *   READ_AS <format> /3/0 <code> <n resources> <same as TLV: true|false>
 *   WRITE_AS <format> /1/0/1 <code>
 *   READ_COMPOSITE <code> <value of /3/0/0> <value of /1/0/1>
 *   WRITE_COMPOSITE <code>
 *   WRITE_ATTRIBUTES /3/0 <code>
 *   DISCOVER_ATTRIBUTES /3/0 <links>
 *   BLOCK2_READ /33000/0/0 <code> <length> <as expected: true|false>
 *   BLOCK1_WRITE /33000/0/0 <code> <length>
 *   BLOCK2_READBACK /33000/0/0 <code> <length> <as written: true|false>
 *   (or BLOCKWISE skipped, for a client without the demo's object 33000)
 *   CREATE <format> /33001/<id> <code> <location> listed=<bool> read=<code> same=<bool>
 *   CREATE 11542 /33001 <code> <location> listed=<bool> read=<code> same=<bool>
 *   CREATE <format> /33001 skipped (Leshan sends a Create without an id in TLV only)
 *   DELETE <format> <path> <code> unlisted=<bool> read=<code>
 *   EXECUTE_ARGS /33001/0/2 <code> <arguments sent>
 *   EXECUTE_BAD_ARGS /33001/0/2 <code> <raw arguments sent>
 *   READ_RI <format> /33001/0/1/1 <code> <value>
 *   READ_RI <format> /33001/0/1/9 <code>
 *   WRITE_SINGLE <format> <path> <code> <read back> <as written: true|false>
 *   READ_LEVEL <format> /33001/0/0|/33001/0/1|/33001/0|/33001 <code> <value, times or name and times>
 *   READ_LEVEL 60 /33001/0/0 <code>
 *   WRITE_MODE <format> REPLACE|UPDATE <path> <code> <name> <times> <as expected: true|false>
 *   (or SCHEDULE skipped, for a client without the demo's object 33001)
 *   DISCOVER /3/0 <code> <links>
 *   READ /4/0 <code> bearer=<0> rssi=<2> ip=<4/0>
 *   READ /6/0 <code> lat=<0> lon=<1> alt=<2>
 *   EXECUTE /7/0/6 <code>
 *   READ /7/0 <code> tx=<2> rx=<3> max=<4> avg=<5>
 *   EXECUTE /7/0/7 <code>
 *   WRITE /1/0/1 <code>
 *   FIRMWARE_WRITE_URI <code> <package uri>
 *   FIRMWARE_DOWNLOADED <state> <reads> <package bytes> <crc32 of the package>
 *   FIRMWARE_EXECUTE <code>
 *   FIRMWARE_RESULT <state> <update result>
 *   EXECUTE /1/0/8 <code>
 *   UPDATED ep=<ep> after_execute=<true|false> lt=<lifetime>
 *   DEREGISTERED ep=<ep>
 *   PASS | FAIL <reason>
 * Exit status 0 only when every step happened and every response was a success.
 */
package org.tern.interop;

import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.eclipse.leshan.core.endpoint.Protocol;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.leshan.core.link.Link;
import org.eclipse.leshan.core.model.ObjectLoader;
import org.eclipse.leshan.core.model.ObjectModel;
import org.eclipse.leshan.core.model.ResourceModel;
import org.eclipse.leshan.core.node.LwM2mNode;
import org.eclipse.leshan.core.node.LwM2mObject;
import org.eclipse.leshan.core.node.LwM2mResource;
import org.eclipse.leshan.core.node.LwM2mResourceInstance;
import org.eclipse.leshan.core.node.LwM2mMultipleResource;
import org.eclipse.leshan.core.node.LwM2mObjectInstance;
import org.eclipse.leshan.core.node.LwM2mSingleResource;
import org.eclipse.leshan.core.observation.CompositeObservation;
import org.eclipse.leshan.core.observation.Observation;
import org.eclipse.leshan.core.observation.SingleObservation;
import org.eclipse.leshan.core.request.ObserveRequest;
import org.eclipse.leshan.core.request.ObserveCompositeRequest;
import org.eclipse.leshan.core.request.CancelObservationRequest;
import org.eclipse.leshan.core.node.LwM2mPath;
import org.eclipse.leshan.core.response.ObserveCompositeResponse;
import org.eclipse.leshan.core.response.ObserveResponse;
import org.eclipse.leshan.server.observation.ObservationListener;
import org.eclipse.leshan.core.request.BindingMode;
import org.eclipse.leshan.core.request.ContentFormat;
import org.eclipse.leshan.core.request.CreateRequest;
import org.eclipse.leshan.core.request.DiscoverRequest;
import org.eclipse.leshan.core.request.ExecuteRequest;
import org.eclipse.leshan.core.request.ReadCompositeRequest;
import org.eclipse.leshan.core.request.ReadRequest;
import org.eclipse.leshan.core.request.RegisterRequest;
import org.eclipse.leshan.core.request.WriteAttributesRequest;
import org.eclipse.leshan.core.request.WriteCompositeRequest;
import org.eclipse.leshan.core.link.lwm2m.attributes.LwM2mAttributeSet;
import org.eclipse.leshan.core.link.lwm2m.attributes.LwM2mAttributes;
import org.eclipse.leshan.core.response.WriteAttributesResponse;
import org.eclipse.leshan.core.request.WriteRequest;
import org.eclipse.leshan.core.request.WriteRequest.Mode;
import org.eclipse.leshan.core.response.DiscoverResponse;
import org.eclipse.leshan.core.response.ExecuteResponse;
import org.eclipse.leshan.core.response.LwM2mResponse;
import org.eclipse.leshan.core.response.ReadCompositeResponse;
import org.eclipse.leshan.core.response.ReadResponse;
import org.eclipse.leshan.core.response.WriteCompositeResponse;
import org.eclipse.leshan.core.response.WriteResponse;
import org.eclipse.leshan.server.LeshanServer;
import org.eclipse.leshan.server.LeshanServerBuilder;
import org.eclipse.leshan.server.model.VersionedModelProvider;
import org.eclipse.leshan.server.queue.PresenceListener;
import org.eclipse.leshan.servers.security.Authorization;
import org.eclipse.leshan.server.queue.StaticClientAwakeTimeProvider;
import org.eclipse.leshan.core.request.exception.ClientSleepingException;
import org.eclipse.leshan.server.registration.Registration;
import org.eclipse.leshan.server.registration.RegistrationListener;
import org.eclipse.leshan.server.registration.RegistrationUpdate;
import org.eclipse.leshan.server.send.SendListener;
import org.eclipse.leshan.core.node.TimestampedLwM2mNodes;
import org.eclipse.leshan.core.request.SendRequest;
import org.eclipse.leshan.transport.californium.server.endpoint.CaliforniumServerEndpointsProvider;
import org.eclipse.leshan.transport.californium.server.endpoint.coap.CoapServerProtocolProvider;

public final class LeshanScenario {

    private static final PrintStream OUT = System.out;

    /** Largest wait for a single downlink request, in milliseconds. */
    private static final long REQUEST_TIMEOUT_MS = 15_000;

    /** The awake time of the queue-mode scenario, on both sides. */
    private static final int QUEUE_AWAKE_MS = 2_000;

    private enum Kind {
        REGISTERED, UPDATED, DEREGISTERED, EXPIRED, REPLACED, SLEEPING, AWAKE
    }

    private static final class Event {
        final Kind kind;
        final Registration reg;
        final long atNanos;

        Event(Kind kind, Registration reg) {
            this.kind = kind;
            this.reg = reg;
            this.atNanos = System.nanoTime();
        }
    }

    private static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;

        Failure(String reason) {
            super(reason);
        }
    }

    private int port = 0;
    private String endpoint = null;
    private long timeoutSec = 60;
    private boolean verbose = false;
    private boolean queue = false;
    private boolean bootstrapped = false;
    private boolean rebootstrap = false;
    private boolean refuse = false;
    private boolean readObserve = false;
    private final CountDownLatch refused = new CountDownLatch(1);
    private long deadlineNanos;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();

    public static void main(String[] args) {
        LeshanScenario s = new LeshanScenario();
        int rc;
        try {
            s.parseArgs(args);
            rc = s.run();
        } catch (IllegalArgumentException e) {
            System.err.println("usage: LeshanScenario [--port N] [--endpoint EP] [--timeout SECONDS] [--verbose]");
            say("FAIL bad arguments: " + e.getMessage());
            rc = 2;
        }
        // Leshan/Californium threads are not all daemons: leave explicitly.
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
                port = Integer.parseInt(value(args, ++i, a));
                if (port < 0 || port > 65535)
                    throw new IllegalArgumentException("port out of range");
                break;
            case "--endpoint":
                endpoint = value(args, ++i, a);
                break;
            case "--timeout":
                timeoutSec = Long.parseLong(value(args, ++i, a));
                if (timeoutSec <= 0)
                    throw new IllegalArgumentException("timeout must be positive");
                break;
            case "--verbose":
                verbose = true;
                break;
            case "--queue":
                queue = true;
                break;
            case "--bootstrapped":
                bootstrapped = true;
                break;
            case "--rebootstrap":
                rebootstrap = true;
                break;
            case "--refuse":
                refuse = true;
                break;
            case "--read-observe":
                readObserve = true;
                break;
            default:
                throw new IllegalArgumentException("unknown argument " + a);
            }
        }
    }

    private static String value(String[] args, int i, String name) {
        if (i >= args.length)
            throw new IllegalArgumentException(name + " needs a value");
        return args[i];
    }

    private int run() {
        // Library logging goes to stderr; quiet unless asked.
        System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "debug" : "warn");
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");

        deadlineNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSec);

        // Plain CoAP only (no CoAPS protocol provider, so no DTLS endpoint at all), bound to loopback.
        CaliforniumServerEndpointsProvider.Builder endpoints = new CaliforniumServerEndpointsProvider.Builder(
                new CoapServerProtocolProvider());
        endpoints.addEndpoint(new InetSocketAddress("127.0.0.1", port), Protocol.COAP);
        endpoints.setConfiguration(LeshanScenario::blockwiseConfiguration);

        LeshanServerBuilder builder = new LeshanServerBuilder();
        builder.setEndpointsProviders(endpoints.build());
        builder.setObjectModelProvider(new VersionedModelProvider(modelsWithBlob()));
        if (queue)
            builder.setClientAwakeTimeProvider(new StaticClientAwakeTimeProvider(QUEUE_AWAKE_MS));
        if (refuse)
            builder.setAuthorizer((request, registration, sender, endpointUri) -> {
                if (!(request instanceof RegisterRequest))
                    return Authorization.approved();
                say("REFUSED ep=" + ((RegisterRequest) request).getEndpointName());
                refused.countDown();
                return Authorization.declined();
            });
        LeshanServer server = builder.build();
        if (queue)
            server.getPresenceService().addListener(new PresenceListener() {
                @Override
                public void onAwake(Registration registration) {
                    events.add(new Event(Kind.AWAKE, registration));
                }

                @Override
                public void onSleeping(Registration registration) {
                    events.add(new Event(Kind.SLEEPING, registration));
                }
            });
        server.getRegistrationService().addListener(new RegistrationListener() {
            @Override
            public void registered(Registration registration, Registration previousReg,
                    Collection<Observation> previousObservations) {
                events.add(new Event(Kind.REGISTERED, registration));
            }

            @Override
            public void updated(RegistrationUpdate update, Registration updatedReg, Registration previousReg) {
                events.add(new Event(Kind.UPDATED, updatedReg));
            }

            @Override
            public void unregistered(Registration registration, Collection<Observation> observations,
                    boolean expired, Registration newReg) {
                Kind k = expired ? Kind.EXPIRED : (newReg != null ? Kind.REPLACED : Kind.DEREGISTERED);
                events.add(new Event(k, registration));
            }
        });

        // Send (LwM2M 1.1) from the client, whenever it comes: one line per Send, with the
        // single resources it carried in path order.
        server.getSendService().addListener(new SendListener() {
            @Override
            public void dataReceived(Registration registration, TimestampedLwM2mNodes data, SendRequest request) {
                StringBuilder line = new StringBuilder("SEND ep=" + registration.getEndpoint() + " format="
                        + request.getFormat().getCode());
                data.getFlattenNodes().entrySet().stream()
                        .filter(e -> e.getValue() instanceof LwM2mSingleResource)
                        .sorted((a, b) -> a.getKey().compareTo(b.getKey()))
                        .forEach(e -> line.append(' ').append(e.getKey()).append('=')
                                .append(((LwM2mSingleResource) e.getValue()).getValue()));
                say(line.toString());
            }

            @Override
            public void onError(Registration registration, String errorMessage, Exception error) {
                say("SEND_ERROR " + errorMessage);
            }
        });

        try {
            server.start();
            Integer bound = server.getEndpoint(Protocol.COAP).getURI().getPort();
            say("LISTENING " + bound);
            if (queue)
                queueScenario(server);
            else if (refuse)
                refuseScenario();
            else if (readObserve)
                readObserveScenario(server);
            else if (bootstrapped)
                bootstrappedScenario(server);
            else if (rebootstrap)
                rebootstrapScenario(server);
            else
                scenario(server);
            say("PASS");
            return 0;
        } catch (Failure f) {
            say("FAIL " + f.getMessage());
            return 1;
        } catch (InterruptedException e) {
            say("FAIL interrupted");
            return 1;
        } catch (RuntimeException e) {
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

    private long remainingMs() {
        return TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
    }

    /** Next registration event for our endpoint, or a failure at the overall deadline. */
    private Event next(String waitingFor) throws Failure, InterruptedException {
        while (true) {
            long left = remainingMs();
            if (left <= 0)
                throw new Failure("timeout waiting for " + waitingFor);
            Event e = events.poll(left, TimeUnit.MILLISECONDS);
            if (e == null)
                throw new Failure("timeout waiting for " + waitingFor);
            if (endpoint != null && !endpoint.equals(e.reg.getEndpoint())) {
                say("IGNORED " + e.kind + " ep=" + e.reg.getEndpoint());
                continue;
            }
            return e;
        }
    }

    private static String links(Link[] links) {
        if (links == null)
            return "";
        List<String> parts = new ArrayList<>();
        for (Link l : links)
            parts.add(l.toCoreLinkFormat());
        return String.join(",", parts);
    }

    /** The value of single resource `rid` of `oi`, or "-". */
    private static String single(LwM2mObjectInstance oi, int rid) {
        LwM2mResource r = oi.getResource(rid);
        return r == null || r.isMultiInstances() ? "-" : String.valueOf(r.getValue());
    }

    /** The next event of kind `want`, skipping the others (Updates, presence changes). */
    private Event nextOf(Kind want) throws Failure, InterruptedException {
        while (true) {
            Event e = next(want.toString());
            if (e.kind == want)
                return e;
            if (e.kind == Kind.DEREGISTERED || e.kind == Kind.EXPIRED)
                throw new Failure("client gone (" + e.kind + ") while waiting for " + want);
        }
    }

    /** Queue mode: the client registers in queue mode, sleeps, and its Update wakes it. */
    private void queueScenario(LeshanServer server) throws Failure, InterruptedException {
        Registration r = nextOf(Kind.REGISTERED).reg;
        endpoint = r.getEndpoint();
        say("REGISTERED ep=" + endpoint + " b=" + BindingMode.toString(r.getBindingMode()) + " lwm2m="
                + r.getLwM2mVersion() + " queue=" + r.usesQueueMode());
        nextOf(Kind.SLEEPING);
        say("SLEEPING");
        Registration current = server.getRegistrationService().getByEndpoint(endpoint);
        try {
            server.send(current, new ReadRequest(3, 0, 0), 1_000);
            say("READ_SLEEPING /3/0/0 sent");
        } catch (ClientSleepingException e) {
            say("READ_SLEEPING /3/0/0 refused");
        }
        nextOf(Kind.AWAKE);
        say("AWAKE");
        ReadResponse rd = send(server, endpoint, new ReadRequest(3, 0, 0), "READ_AWAKE /3/0/0");
        String value = rd.getContent() instanceof LwM2mSingleResource
                ? String.valueOf(((LwM2mSingleResource) rd.getContent()).getValue())
                : "-";
        say("READ_AWAKE /3/0/0 " + code(rd) + " " + value);
        nextOf(Kind.DEREGISTERED);
        say("DEREGISTERED");
    }

    /** Register, Read /3/0, Observe the temperature, one notification, De-register. */
    private void readObserveScenario(LeshanServer server) throws Failure, InterruptedException {
        Registration r = nextOf(Kind.REGISTERED).reg;
        endpoint = r.getEndpoint();
        say("REGISTERED ep=" + endpoint + " lt=" + r.getLifeTimeInSec() + " b="
                + BindingMode.toString(r.getBindingMode()) + " lwm2m=" + r.getLwM2mVersion());
        ReadResponse device = send(server, endpoint, new ReadRequest(ContentFormat.TLV, 3, 0), "READ /3/0");
        LwM2mObjectInstance oi = device.getContent() instanceof LwM2mObjectInstance
                ? (LwM2mObjectInstance) device.getContent()
                : null;
        say("READ /3/0 " + code(device) + " manufacturer=" + (oi == null ? "-" : single(oi, 0)) + " model="
                + (oi == null ? "-" : single(oi, 1)));
        BlockingQueue<String> notes = new LinkedBlockingQueue<>();
        server.getObservationService().addListener(new ObservationListener() {
            @Override
            public void newObservation(Observation o, Registration reg) {
            }

            @Override
            public void cancelled(Observation o) {
            }

            @Override
            public void onResponse(SingleObservation o, Registration reg, ObserveResponse resp) {
                notes.add(singleValue(resp.getContent()));
            }

            @Override
            public void onResponse(CompositeObservation o, Registration reg, ObserveCompositeResponse resp) {
            }

            @Override
            public void onError(Observation o, Registration reg, Exception error) {
                notes.add("error " + error);
            }
        });
        ObserveResponse ob = send(server, endpoint, new ObserveRequest(3303, 0, 5700), "OBSERVE /3303/0/5700");
        say("OBSERVE /3303/0/5700 " + code(ob) + " " + singleValue(ob.getContent()));
        String note = notes.poll(Math.max(1, remainingMs()), TimeUnit.MILLISECONDS);
        say("NOTIFY /3303/0/5700 " + note);
        nextOf(Kind.DEREGISTERED);
        say("DEREGISTERED");
    }

    /** Every Register declined: done once the first one was. */
    private void refuseScenario() throws Failure, InterruptedException {
        if (!refused.await(Math.max(remainingMs(), 0), TimeUnit.MILLISECONDS))
            throw new Failure("timeout waiting for a Register to refuse");
        // The 4.03 leaves after the authorizer returns: give it time to go out.
        Thread.sleep(2_000);
    }

    /** A bootstrapped client: what it registered with, and the Server object it was given. */
    private void bootstrappedScenario(LeshanServer server) throws Failure, InterruptedException {
        Registration r = nextOf(Kind.REGISTERED).reg;
        endpoint = r.getEndpoint();
        say("REGISTERED ep=" + endpoint + " lt=" + r.getLifeTimeInSec() + " b="
                + BindingMode.toString(r.getBindingMode()) + " lwm2m=" + r.getLwM2mVersion());
        readServers(server);
        ReadResponse security = send(server, endpoint, new ReadRequest(ContentFormat.TLV, 0), "READ /0");
        say("READ /0 " + code(security));
        nextOf(Kind.DEREGISTERED);
        say("DEREGISTERED");
    }

    /** Reads /1 and reports its instances' Short Server IDs and lifetimes. */
    private void readServers(LeshanServer server) throws Failure, InterruptedException {
        ReadResponse servers = send(server, endpoint, new ReadRequest(ContentFormat.TLV, 1), "READ /1");
        StringBuilder line = new StringBuilder("READ /1 " + code(servers));
        if (servers.getContent() instanceof LwM2mObject)
            for (LwM2mObjectInstance oi : ((LwM2mObject) servers.getContent()).getInstances().values())
                line.append(' ').append(oi.getId()).append(":ssid=").append(single(oi, 0)).append("/lt=")
                        .append(single(oi, 1)).append(',');
        say(line.toString());
    }

    /**
     * The Bootstrap-Request Trigger, then how the client leaves this server's first
     * registration: a De-register (DEREGISTERED) when the bootstrap dropped its account, or
     * a new Register over it (REPLACED, or REGISTERED when Leshan reports no replacement).
     */
    private void rebootstrapScenario(LeshanServer server) throws Failure, InterruptedException {
        Registration r = nextOf(Kind.REGISTERED).reg;
        endpoint = r.getEndpoint();
        say("REGISTERED ep=" + endpoint + " lt=" + r.getLifeTimeInSec());
        ExecuteResponse ex = send(server, endpoint, new ExecuteRequest(1, 0, 9), "EXECUTE /1/0/9");
        say("EXECUTE /1/0/9 " + code(ex));
        Event e = next("the end of the first registration");
        while (e.kind == Kind.UPDATED)
            e = next("the end of the first registration");
        say("LEFT " + e.kind);
        if (e.kind != Kind.REGISTERED)
            e = nextOf(Kind.REGISTERED);
        say("REGISTERED_AGAIN lt=" + e.reg.getLifeTimeInSec());
        readServers(server);
        nextOf(Kind.DEREGISTERED);
        say("DEREGISTERED");
    }

    private void scenario(LeshanServer server) throws Failure, InterruptedException {
        // 1. Registration.
        Event reg = next("registration");
        if (reg.kind != Kind.REGISTERED)
            throw new Failure("expected a registration, got " + reg.kind);
        Registration r = reg.reg;
        String ep = r.getEndpoint();
        endpoint = ep; // from now on only this client counts
        say("REGISTERED ep=" + ep + " lt=" + r.getLifeTimeInSec() + " b=" + BindingMode.toString(r.getBindingMode())
                + " lwm2m=" + r.getLwM2mVersion() + " objects=" + links(r.getObjectLinks()));

        List<String> failures = new ArrayList<>();

        // 2. Read /3/0/0 without an Accept option: the client picks the content format.
        ReadResponse rd = send(server, ep, new ReadRequest(3, 0, 0), "READ /3/0/0");
        String value = "-";
        if (rd.getContent() instanceof LwM2mSingleResource)
            value = String.valueOf(((LwM2mSingleResource) rd.getContent()).getValue());
        say("READ /3/0/0 " + code(rd) + " " + value);
        check(rd, "READ /3/0/0", failures);

        // 3. Read the whole instance /3/0 in TLV.
        ReadResponse ri = send(server, ep, new ReadRequest(ContentFormat.TLV, 3, 0), "READ /3/0");
        LwM2mNode node = ri.getContent();
        String n = node instanceof LwM2mObjectInstance
                ? String.valueOf(((LwM2mObjectInstance) node).getResources().size())
                : "-";
        say("READ /3/0 " + code(ri) + " " + n);
        check(ri, "READ /3/0", failures);

        // 3a. The Access Control object (2) in TLV, decoded with Leshan's model of it: one
        // "iid:oid/oiid/owner=N/acl=ssid=rights,..." word per instance.
        ReadResponse ra = send(server, ep, new ReadRequest(ContentFormat.TLV, 2), "READ /2");
        StringBuilder acls = new StringBuilder();
        if (ra.getContent() instanceof LwM2mObject) {
            for (LwM2mObjectInstance oi : ((LwM2mObject) ra.getContent()).getInstances().values()) {
                acls.append(' ').append(oi.getId()).append(':').append(single(oi, 0)).append('/')
                        .append(single(oi, 1)).append("/owner=").append(single(oi, 3)).append("/acl=");
                LwM2mResource list = oi.getResource(2);
                if (list != null && list.isMultiInstances())
                    for (LwM2mResourceInstance e : list.getInstances().values())
                        acls.append(e.getId()).append('=').append(e.getValue()).append(',');
            }
        }
        say("READ /2 " + code(ra) + acls);
        check(ra, "READ /2", failures);

        // 3b. The same instance in the record formats Leshan speaks: same resources, same values.
        for (ContentFormat f : new ContentFormat[] { ContentFormat.SENML_JSON, ContentFormat.SENML_CBOR,
                ContentFormat.JSON }) {
            ReadResponse rf = send(server, ep, new ReadRequest(f, 3, 0), "READ " + f.getName() + " /3/0");
            LwM2mNode nf = rf.getContent();
            boolean same = nf instanceof LwM2mObjectInstance && node instanceof LwM2mObjectInstance
                    && sameExceptTime((LwM2mObjectInstance) nf, (LwM2mObjectInstance) node);
            String count = nf instanceof LwM2mObjectInstance
                    ? String.valueOf(((LwM2mObjectInstance) nf).getResources().size())
                    : "-";
            say("READ_AS " + f.getCode() + " /3/0 " + code(rf) + " " + count + " " + same);
            check(rf, "READ " + f.getName() + " /3/0", failures);
            if (!same)
                failures.add("READ " + f.getName() + " /3/0 differs from the TLV read");
        }

        // 4. Discover /3/0.
        DiscoverResponse dr = send(server, ep, new DiscoverRequest(3, 0), "DISCOVER /3/0");
        say("DISCOVER /3/0 " + code(dr) + " " + links(dr.getObjectLinks()));
        check(dr, "DISCOVER /3/0", failures);

        // 5. Write the registered lifetime back to /1/0/1 (text/plain): harmless.
        long lt = r.getLifeTimeInSec() == null ? 86400 : r.getLifeTimeInSec();
        WriteResponse wr = send(server, ep, new WriteRequest(ContentFormat.TEXT, 1, 0, 1, lt), "WRITE /1/0/1");
        say("WRITE /1/0/1 " + code(wr));
        check(wr, "WRITE /1/0/1", failures);

        // 5b. The same write as a partial update of the instance in SenML JSON and CBOR, and
        // as a replace of the resource in LwM2M JSON.
        for (ContentFormat f : new ContentFormat[] { ContentFormat.SENML_JSON, ContentFormat.SENML_CBOR }) {
            WriteResponse wf = send(server, ep,
                    new WriteRequest(Mode.UPDATE, f, 1, 0, LwM2mSingleResource.newIntegerResource(1, lt)),
                    "WRITE " + f.getName() + " /1/0");
            say("WRITE_AS " + f.getCode() + " /1/0/1 " + code(wf));
            check(wf, "WRITE " + f.getName() + " /1/0", failures);
        }
        WriteResponse wj = send(server, ep, new WriteRequest(ContentFormat.JSON, 1, 0, 1, lt), "WRITE JSON /1/0/1");
        say("WRITE_AS " + ContentFormat.JSON.getCode() + " /1/0/1 " + code(wj));
        check(wj, "WRITE JSON /1/0/1", failures);

        // 5c. Read-Composite of two objects (request in SenML CBOR, answer in SenML JSON),
        // then Write-Composite of the lifetime in SenML CBOR.
        ReadCompositeResponse rc = send(server, ep,
                new ReadCompositeRequest(ContentFormat.SENML_CBOR, ContentFormat.SENML_JSON, "/3/0/0", "/1/0/1"),
                "READ_COMPOSITE");
        say("READ_COMPOSITE " + code(rc) + " " + single(rc, "/3/0/0") + " " + single(rc, "/1/0/1"));
        check(rc, "READ_COMPOSITE", failures);
        java.util.Map<String, Object> values = new java.util.HashMap<>();
        values.put("/1/0/1", lt);
        WriteCompositeResponse wc = send(server, ep, new WriteCompositeRequest(ContentFormat.SENML_CBOR, values),
                "WRITE_COMPOSITE");
        say("WRITE_COMPOSITE " + code(wc));
        check(wc, "WRITE_COMPOSITE", failures);

        // 5d. Write-Attributes on /3/0 (pmin 5, pmax 60); Discover shows them.
        WriteAttributesResponse wa;
        try {
            wa = send(server, ep, new WriteAttributesRequest(3, 0, new LwM2mAttributeSet(
                    LwM2mAttributes.create(LwM2mAttributes.MINIMUM_PERIOD, 5L),
                    LwM2mAttributes.create(LwM2mAttributes.MAXIMUM_PERIOD, 60L))), "WRITE_ATTRIBUTES /3/0");
        } catch (org.eclipse.leshan.core.request.exception.InvalidRequestException e) {
            throw new Failure("WRITE_ATTRIBUTES: " + e.getMessage());
        }
        say("WRITE_ATTRIBUTES /3/0 " + code(wa));
        check(wa, "WRITE_ATTRIBUTES /3/0", failures);
        DiscoverResponse da = send(server, ep, new DiscoverRequest(3, 0), "DISCOVER /3/0 after attributes");
        say("DISCOVER_ATTRIBUTES /3/0 " + links(da.getObjectLinks()));
        check(da, "DISCOVER /3/0 after attributes", failures);

        // 5d. Observe: a notification follows a change.
        observeWrite(server, ep, failures);

        // 5e. Firmware Update pulled from a CoAP file server of our own.
        firmware(server, ep, failures);
        // 5e. The optional standard objects the demo serves.
        standardObjects(server, ep, failures);
        // 5e. The Server object's resources (Disable Timeout, the registration retry ones).
        serverObject(server, ep, failures);
        // 5e. Block-wise transfer of the demo's large opaque resource.
        blockwise(server, ep, r, failures);
        // 5f. The demo's Schedule object (33001): Create and Delete, Execute with arguments,
        // Read of one resource instance, Write of one resource, Write replace vs update.
        if (links(r.getObjectLinks()).contains("</33001/0>")) {
            createDelete(server, ep, failures);
            executeArguments(server, ep, failures);
            readResourceInstance(server, ep, failures);
            writeSingle(server, ep, r, failures);
            readLevels(server, ep, failures);
            writeModes(server, ep, failures);
        } else {
            say("SCHEDULE skipped");
        }

        // 6. Execute the Registration Update Trigger.
        ExecuteResponse er = send(server, ep, new ExecuteRequest(1, 0, 8), "EXECUTE /1/0/8");
        long executedAt = System.nanoTime();
        say("EXECUTE /1/0/8 " + code(er));
        check(er, "EXECUTE /1/0/8", failures);

        // 7. Updates until the de-registration.
        int updates = 0;
        while (true) {
            Event e = next(updates == 0 ? "registration update" : "de-registration");
            if (e.kind == Kind.UPDATED) {
                updates++;
                say("UPDATED ep=" + ep + " after_execute=" + (e.atNanos >= executedAt) + " lt="
                        + e.reg.getLifeTimeInSec());
                continue;
            }
            if (e.kind == Kind.DEREGISTERED) {
                say("DEREGISTERED ep=" + ep);
                break;
            }
            if (e.kind == Kind.REGISTERED) {
                failures.add("client registered again instead of updating");
                say("REREGISTERED ep=" + ep);
                continue;
            }
            throw new Failure("registration ended by " + e.kind + " instead of a de-registration");
        }
        if (updates == 0)
            failures.add("no registration update before the de-registration");
        if (!failures.isEmpty())
            throw new Failure(String.join("; ", failures));
    }

    /**
     * Firmware Update (object 5) by pull: a Californium CoapServer on 127.0.0.1 serves a
     * 4 KB package (Block2, which Californium does by itself); the client is given its
     * Package URI, polled on State (/5/0/3) until Downloaded, told to Update (/5/0/2), and
     * polled until Idle with Update Result (/5/0/5) 1.
     */
    private void firmware(LeshanServer server, String ep, List<String> failures)
            throws Failure, InterruptedException {
        byte[] image = new byte[4000];
        new java.util.Random(5).nextBytes(image);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(image);
        org.eclipse.californium.core.config.CoapConfig.register();
        org.eclipse.californium.elements.config.UdpConfig.register();
        org.eclipse.californium.elements.config.Configuration cfg = org.eclipse.californium.elements.config.Configuration
                .createStandardWithoutFile();
        org.eclipse.californium.core.CoapServer files = new org.eclipse.californium.core.CoapServer(cfg);
        org.eclipse.californium.core.network.CoapEndpoint fileEndpoint = new org.eclipse.californium.core.network.CoapEndpoint.Builder()
                .setConfiguration(cfg).setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0)).build();
        files.addEndpoint(fileEndpoint);
        org.eclipse.californium.core.CoapResource dir = new org.eclipse.californium.core.CoapResource("fw");
        dir.add(new org.eclipse.californium.core.CoapResource("image.bin") {
            @Override
            public void handleGET(org.eclipse.californium.core.CoapExchange exchange) {
                exchange.respond(org.eclipse.californium.core.coap.CoAP.ResponseCode.CONTENT, image,
                        org.eclipse.californium.core.coap.MediaTypeRegistry.APPLICATION_OCTET_STREAM);
            }
        });
        files.add(dir);
        try {
            files.start();
            String uri = "coap://127.0.0.1:" + fileEndpoint.getAddress().getPort() + "/fw/image.bin";
            WriteResponse wu = send(server, ep, new WriteRequest(5, 0, 1, uri), "WRITE /5/0/1");
            say("FIRMWARE_WRITE_URI " + code(wu) + " " + uri);
            check(wu, "WRITE /5/0/1", failures);
            int reads = 0;
            long state = -1;
            while (reads < 100) {
                reads++;
                state = readInt(server, ep, 3);
                if (state != 1)
                    break;
                Thread.sleep(100);
            }
            say("FIRMWARE_DOWNLOADED " + state + " " + reads + " " + image.length + " "
                    + String.format("%08x", crc.getValue()));
            if (state != 2) {
                failures.add("firmware not downloaded (state " + state + ", result " + readInt(server, ep, 5) + ")");
                return;
            }
            ExecuteResponse ex = send(server, ep, new ExecuteRequest(5, 0, 2), "EXECUTE /5/0/2");
            say("FIRMWARE_EXECUTE " + code(ex));
            check(ex, "EXECUTE /5/0/2", failures);
            for (reads = 0; reads < 50; reads++) {
                state = readInt(server, ep, 3);
                if (state != 3)
                    break;
                Thread.sleep(100);
            }
            long result = readInt(server, ep, 5);
            say("FIRMWARE_RESULT " + state + " " + result);
            if (state != 0 || result != 1)
                failures.add("firmware update ended in state " + state + " with result " + result);
        } finally {
            files.destroy();
        }
    }

    /** An integer resource of /5/0, or -1. */
    private long readInt(LeshanServer server, String ep, int resource) throws Failure, InterruptedException {
        ReadResponse r = send(server, ep, new ReadRequest(5, 0, resource), "READ /5/0/" + resource);
        if (r.isSuccess() && r.getContent() instanceof LwM2mSingleResource)
            return ((Number) ((LwM2mSingleResource) r.getContent()).getValue()).longValue();
        return -1;
    }

    /**
     * Connectivity Monitoring (4) and Location (6) as the demo set them, then Connectivity
     * Statistics (7): Start, some traffic, a read of the counters, Stop.
     */
    private void standardObjects(LeshanServer server, String ep, List<String> failures)
            throws Failure, InterruptedException {
        ReadResponse cm = send(server, ep, new ReadRequest(ContentFormat.TLV, 4, 0), "READ /4/0");
        say("READ /4/0 " + code(cm) + " bearer=" + value(cm, 0) + " rssi=" + value(cm, 2) + " ip="
                + instanceValue(cm, 4, 0));
        check(cm, "READ /4/0", failures);

        ReadResponse loc = send(server, ep, new ReadRequest(ContentFormat.TLV, 6, 0), "READ /6/0");
        say("READ /6/0 " + code(loc) + " lat=" + value(loc, 0) + " lon=" + value(loc, 1) + " alt="
                + value(loc, 2));
        check(loc, "READ /6/0", failures);

        ExecuteResponse start = send(server, ep, new ExecuteRequest(7, 0, 6), "EXECUTE /7/0/6");
        say("EXECUTE /7/0/6 " + code(start));
        check(start, "EXECUTE /7/0/6", failures);
        for (int i = 0; i < 8; i++) {
            ReadResponse r = send(server, ep, new ReadRequest(ContentFormat.TLV, 3, 0), "READ /3/0 (traffic)");
            check(r, "READ /3/0 (traffic)", failures);
        }
        ReadResponse st = send(server, ep, new ReadRequest(ContentFormat.TLV, 7, 0), "READ /7/0");
        say("READ /7/0 " + code(st) + " tx=" + value(st, 2) + " rx=" + value(st, 3) + " max=" + value(st, 4)
                + " avg=" + value(st, 5));
        check(st, "READ /7/0", failures);
        ExecuteResponse stop = send(server, ep, new ExecuteRequest(7, 0, 7), "EXECUTE /7/0/7");
        say("EXECUTE /7/0/7 " + code(stop));
        check(stop, "EXECUTE /7/0/7", failures);
    }

    /**
     * The Server object (1): Read /1/0 in TLV (decoded with Leshan's model of the object),
     * Write of the Disable Timeout (/1/0/5) read back, and a Write of a negative Disable
     * Timeout, which the client must refuse (4.00) without changing the value.
     */
    private void serverObject(LeshanServer server, String ep, List<String> failures)
            throws Failure, InterruptedException {
        ReadResponse so = send(server, ep, new ReadRequest(ContentFormat.TLV, 1, 0), "READ /1/0");
        say("READ /1/0 " + code(so) + " ssid=" + value(so, 0) + " lt=" + value(so, 1) + " dt=" + value(so, 5)
                + " b=" + value(so, 7) + " retry=" + value(so, 17) + " timer=" + value(so, 18) + " seqdelay="
                + value(so, 19) + " seqretry=" + value(so, 20));
        check(so, "READ /1/0", failures);

        WriteResponse wd = send(server, ep, new WriteRequest(ContentFormat.TEXT, 1, 0, 5, 3600L), "WRITE /1/0/5");
        ReadResponse rdt = send(server, ep, new ReadRequest(ContentFormat.TEXT, 1, 0, 5), "READ /1/0/5");
        String back = rdt.getContent() instanceof LwM2mSingleResource
                ? String.valueOf(((LwM2mSingleResource) rdt.getContent()).getValue())
                : "-";
        say("WRITE /1/0/5 " + code(wd) + " " + back);
        check(wd, "WRITE /1/0/5", failures);
        check(rdt, "READ /1/0/5", failures);

        WriteResponse bad = send(server, ep, new WriteRequest(ContentFormat.TEXT, 1, 0, 5, -1L), "WRITE /1/0/5 -1");
        ReadResponse rb = send(server, ep, new ReadRequest(ContentFormat.TEXT, 1, 0, 5), "READ /1/0/5 after -1");
        String kept = rb.getContent() instanceof LwM2mSingleResource
                ? String.valueOf(((LwM2mSingleResource) rb.getContent()).getValue())
                : "-";
        say("WRITE_BAD /1/0/5 " + code(bad) + " " + kept);
    }

    /** The value of single resource `id` of the instance a read returned, or "-". */
    /**
     * Observe: /1/0/3 (a resource), /1/0 (an instance) and /1 (the object), and an
     * Observe-Composite of /1/0/2 and /3/0/0; the server's Writes are changes, so each
     * observation is notified; then an active cancel (GET with Observe 1) of /1/0/3, after
     * which its Writes are not notified, and a passive one (Leshan forgets /1/0 and resets
     * the next notification, which ends the observation on the client).
     */
    private void observeWrite(LeshanServer server, String ep, List<String> failures)
            throws Failure, InterruptedException {
        BlockingQueue<String> notes = new LinkedBlockingQueue<>();
        ObservationListener listener = new ObservationListener() {
            @Override
            public void newObservation(Observation o, Registration r) {
            }

            @Override
            public void cancelled(Observation o) {
            }

            @Override
            public void onResponse(SingleObservation o, Registration r, ObserveResponse resp) {
                LwM2mNode node = resp.getContent();
                String v = node instanceof LwM2mSingleResource
                        ? String.valueOf(((LwM2mSingleResource) node).getValue())
                        : node instanceof LwM2mObjectInstance ? single((LwM2mObjectInstance) node, 2)
                        : node instanceof LwM2mObject && ((LwM2mObject) node).getInstance(0) != null
                                ? single(((LwM2mObject) node).getInstance(0), 2)
                                : String.valueOf(node);
                notes.add(o.getPath() + " " + v);
            }

            @Override
            public void onResponse(CompositeObservation o, Registration r, ObserveCompositeResponse resp) {
                notes.add("composite " + singleValue(resp.getContent().get(new LwM2mPath(1, 0, 2))) + " "
                        + singleValue(resp.getContent().get(new LwM2mPath(3, 0, 0))));
            }

            @Override
            public void onError(Observation o, Registration r, Exception error) {
                notes.add("error " + error);
            }
        };
        server.getObservationService().addListener(listener);
        try {
            ObserveResponse ob = send(server, ep, new ObserveRequest(1, 0, 3), "OBSERVE /1/0/3");
            say("OBSERVE /1/0/3 " + code(ob) + (ob.getObservation() != null ? " observing" : " not observing"));
            check(ob, "OBSERVE /1/0/3", failures);
            if (ob.getObservation() == null)
                failures.add("OBSERVE /1/0/3: no observation established");
            WriteResponse w = send(server, ep, new WriteRequest(1, 0, 3, 300L), "WRITE /1/0/3");
            check(w, "WRITE /1/0/3", failures);
            String got = notes.poll(Math.max(1, Math.min(10_000, remainingMs())), TimeUnit.MILLISECONDS);
            say("NOTIFY /1/0/3 " + (got == null ? null : got.substring(got.indexOf(' ') + 1)));
            if (!"/1/0/3 300".equals(got))
                failures.add("NOTIFY /1/0/3: expected 300 after the Write, got " + got);

            // An instance, the object, and a composite.
            ObserveResponse inst = send(server, ep, new ObserveRequest(ContentFormat.TLV, 1, 0), "OBSERVE /1/0");
            ObserveResponse obj = send(server, ep, new ObserveRequest(ContentFormat.TLV, 1), "OBSERVE /1");
            ObserveCompositeResponse comp = send(server, ep, new ObserveCompositeRequest(ContentFormat.SENML_CBOR,
                    ContentFormat.SENML_CBOR, "/1/0/2", "/3/0/0"), "OBSERVE_COMPOSITE");
            say("OBSERVE_MORE " + code(inst) + " " + code(obj) + " " + code(comp) + " "
                    + (inst.getObservation() != null && obj.getObservation() != null
                            && comp.getObservation() != null));
            send(server, ep, new WriteRequest(1, 0, 2, 1L), "WRITE /1/0/2");
            say("NOTIFY_MORE " + String.join(", ", drain(notes)));

            // Active cancel of /1/0/3: its next Write is not notified (the instance and the
            // object, which hold /1/0/3, still are).
            LwM2mResponse cancel = send(server, ep,
                    new CancelObservationRequest((SingleObservation) ob.getObservation()), "CANCEL /1/0/3");
            send(server, ep, new WriteRequest(1, 0, 3, 310L), "WRITE /1/0/3");
            boolean silent = drain(notes).stream().noneMatch(n -> n.startsWith("/1/0/3 "));
            say("CANCEL_ACTIVE /1/0/3 " + code(cancel) + " " + (silent ? "silent" : "notified"));

            // Passive cancel of /1/0: Leshan resets its next notification.
            server.getObservationService().cancelObservation(inst.getObservation());
            send(server, ep, new WriteRequest(1, 0, 2, 2L), "WRITE /1/0/2");
            say("CANCEL_PASSIVE /1/0 " + String.join(", ", drain(notes)));
            server.getObservationService().cancelObservations(server.getRegistrationService().getByEndpoint(ep));
        } finally {
            server.getObservationService().removeListener(listener);
        }
    }

    /** The value of a single resource node, or "-". */
    private static String singleValue(LwM2mNode n) {
        return n instanceof LwM2mSingleResource ? String.valueOf(((LwM2mSingleResource) n).getValue()) : "-";
    }

    /** The notifications that arrive until none has for 1.5 s (bounded), sorted. */
    private List<String> drain(BlockingQueue<String> notes) throws InterruptedException {
        List<String> got = new ArrayList<>();
        while (got.size() < 20) {
            String n = notes.poll(Math.max(1, Math.min(1_500, remainingMs())), TimeUnit.MILLISECONDS);
            if (n == null)
                break;
            got.add(n);
        }
        got.sort(null);
        return got;
    }

    private static String value(ReadResponse r, int id) {
        if (!(r.getContent() instanceof LwM2mObjectInstance))
            return "-";
        org.eclipse.leshan.core.node.LwM2mResource res = ((LwM2mObjectInstance) r.getContent()).getResource(id);
        return res == null || res.isMultiInstances() ? "-" : String.valueOf(res.getValue());
    }

    /** The value of instance `ri` of multiple resource `id` of the instance a read returned, or "-". */
    private static String instanceValue(ReadResponse r, int id, int ri) {
        if (!(r.getContent() instanceof LwM2mObjectInstance))
            return "-";
        org.eclipse.leshan.core.node.LwM2mResource res = ((LwM2mObjectInstance) r.getContent()).getResource(id);
        if (res == null || !res.isMultiInstances() || res.getInstance(ri) == null)
            return "-";
        return String.valueOf(res.getInstance(ri).getValue());
    }

    /**
     * Californium sends a request body larger than MAX_MESSAGE_SIZE block-wise (Block1) in
     * blocks of PREFERRED_BLOCK_SIZE; the client's messages hold 512 bytes, so blocks of 256.
     */
    private static void blockwiseConfiguration(Configuration c) {
        c.set(CoapConfig.MAX_MESSAGE_SIZE, 256);
        c.set(CoapConfig.PREFERRED_BLOCK_SIZE, 256);
    }

    /** Leshan's default object models plus the demo's Blob (33000: resource 0, opaque, RW). */
    private static List<ObjectModel> modelsWithBlob() {
        List<ObjectModel> models = new ArrayList<>(ObjectLoader.loadAllDefault());
        models.add(new ObjectModel(33000, "Blob", "A large opaque value", "1.0", false, false,
                new ResourceModel(0, "Data", ResourceModel.Operations.RW, false, true, ResourceModel.Type.OPAQUE,
                        null, null, "The value")));
        models.add(new ObjectModel(SCHEDULE, "Schedule", "Instances a server creates and deletes", "1.0", true,
                false,
                new ResourceModel(0, "Name", ResourceModel.Operations.RW, false, false, ResourceModel.Type.STRING,
                        null, null, "A name"),
                new ResourceModel(1, "Times", ResourceModel.Operations.RW, true, false, ResourceModel.Type.INTEGER,
                        "0..1439", "min", "Minutes after midnight"),
                new ResourceModel(2, "Run", ResourceModel.Operations.E, false, false, ResourceModel.Type.NONE, null,
                        null, "Runs the schedule now")));
        return models;
    }

    /** `len` bytes where byte i is (i * mul + add) mod 256. */
    private static byte[] pattern(int len, int mul, int add) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++)
            b[i] = (byte) (i * mul + add);
        return b;
    }

    private static byte[] opaque(ReadResponse r) {
        if (r.getContent() instanceof LwM2mSingleResource) {
            Object v = ((LwM2mSingleResource) r.getContent()).getValue();
            if (v instanceof byte[])
                return (byte[]) v;
        }
        return null;
    }

    /**
     * Block-wise transfer (RFC 7959) of /33000/0/0 of the demo client: a Read of its 1500
     * initial bytes (Block2, reassembled by Californium), a Write of 2500 bytes (Block1) and a
     * Read back. Skipped for a client that does not register object 33000.
     */
    private void blockwise(LeshanServer server, String ep, Registration r, List<String> failures)
            throws Failure, InterruptedException {
        if (!links(r.getObjectLinks()).contains("</33000/0>")) {
            say("BLOCKWISE skipped");
            return;
        }
        byte[] initial = pattern(1500, 7, 3);
        ReadResponse rd = send(server, ep, new ReadRequest(ContentFormat.OPAQUE, 33000, 0, 0), "READ /33000/0/0");
        byte[] got = opaque(rd);
        boolean same = java.util.Arrays.equals(got, initial);
        say("BLOCK2_READ /33000/0/0 " + code(rd) + " " + (got == null ? "-" : got.length) + " " + same);
        check(rd, "READ /33000/0/0", failures);
        if (!same)
            failures.add("block-wise Read of /33000/0/0 is not the initial value");

        byte[] big = pattern(2500, 13, 1);
        WriteResponse wr = send(server, ep, new WriteRequest(ContentFormat.OPAQUE, 33000, 0, 0, big),
                "WRITE /33000/0/0");
        say("BLOCK1_WRITE /33000/0/0 " + code(wr) + " " + big.length);
        check(wr, "WRITE /33000/0/0", failures);

        ReadResponse back = send(server, ep, new ReadRequest(ContentFormat.OPAQUE, 33000, 0, 0),
                "READ /33000/0/0 again");
        byte[] got2 = opaque(back);
        boolean written = java.util.Arrays.equals(got2, big);
        say("BLOCK2_READBACK /33000/0/0 " + code(back) + " " + (got2 == null ? "-" : got2.length) + " " + written);
        check(back, "READ /33000/0/0 again", failures);
        if (!written)
            failures.add("block-wise Read of /33000/0/0 is not what the block-wise Write wrote");
    }

    /** The demo's Schedule object: 0 Name (string), 1 Times (integers, multiple), 2 Run (E). */
    private static final int SCHEDULE = 33001;

    /** The formats a Create or Write in this scenario goes through. */
    private static final ContentFormat[] RECORD_FORMATS = { ContentFormat.TLV, ContentFormat.SENML_JSON,
            ContentFormat.SENML_CBOR, ContentFormat.JSON };

    /** Waits (5 s at most) until the registration lists `link` (or no longer does). */
    private boolean waitForLink(LeshanServer server, String ep, String link, boolean listed)
            throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            Registration reg = server.getRegistrationService().getByEndpoint(ep);
            if (reg != null && links(reg.getObjectLinks()).contains(link) == listed)
                return true;
            Thread.sleep(50);
        }
        return false;
    }

    /** The name and the times of a Schedule instance a read returned, as "name {ri=minute, ...}". */
    private static String schedule(LwM2mNode node) {
        if (!(node instanceof LwM2mObjectInstance))
            return "- -";
        LwM2mObjectInstance oi = (LwM2mObjectInstance) node;
        return single(oi, 0) + " " + times(oi.getResource(1));
    }

    /** The instances of a multiple resource as "{ri=value, ...}", ordered by id, or "-". */
    private static String times(LwM2mNode node) {
        if (!(node instanceof LwM2mResource) || !((LwM2mResource) node).isMultiInstances())
            return "-";
        java.util.TreeMap<Integer, Object> m = new java.util.TreeMap<>();
        for (LwM2mResourceInstance ri : ((LwM2mResource) node).getInstances().values())
            m.put(ri.getId(), ri.getValue());
        return m.toString().replace(" ", "");
    }

    private static java.util.Map<Integer, Long> minutes(long... pairs) {
        java.util.Map<Integer, Long> m = new java.util.TreeMap<>();
        for (int i = 0; i + 1 < pairs.length; i += 2)
            m.put((int) pairs[i], pairs[i + 1]);
        return m;
    }

    /**
     * Create of a Schedule instance with an id, in each record format, and without one in TLV
     * (the client picks the lowest free id: 1; Leshan refuses to build that in the other
     * formats): 2.01 with the Location-Path, an Update that lists
     * the instance, a Read back in the same format; then Delete of both: 2.02, an Update
     * without them, a Read answered 4.04.
     */
    private void createDelete(LeshanServer server, String ep, List<String> failures)
            throws Failure, InterruptedException {
        int k = 0;
        for (ContentFormat f : RECORD_FORMATS) {
            int id = 10 + k;
            String name = f.getName().toLowerCase().replace('_', '-');
            LwM2mResource[] values = { LwM2mSingleResource.newStringResource(0, name),
                    LwM2mMultipleResource.newIntegerResource(1, minutes(0, 420 + k, 1, 1260)) };
            String want = name + " {0=" + (420 + k) + ",1=1260}";
            List<String> created = new ArrayList<>();
            for (boolean withId : new boolean[] { true, false }) {
                if (!withId && f != ContentFormat.TLV) {
                    // Leshan builds a Create without an instance id in TLV only.
                    say("CREATE " + f.getCode() + " /" + SCHEDULE + " skipped");
                    continue;
                }
                String what = "CREATE " + f.getName() + " /" + SCHEDULE + (withId ? "/" + id : "");
                org.eclipse.leshan.core.response.CreateResponse cr;
                try {
                    cr = send(server, ep, withId ? new CreateRequest(f, SCHEDULE, new LwM2mObjectInstance(id, values))
                            : new CreateRequest(f, SCHEDULE, values), what);
                } catch (org.eclipse.leshan.core.request.exception.InvalidRequestException e) {
                    throw new Failure(what + ": Leshan refused to build it: " + e.getMessage());
                }
                check(cr, what, failures);
                String location = cr.getLocation() == null ? "-" : cr.getLocation();
                int iid = withId ? id : 1;
                boolean listed = cr.isSuccess() && waitForLink(server, ep, "</" + SCHEDULE + "/" + iid + ">", true);
                ReadResponse back = send(server, ep, new ReadRequest(f, SCHEDULE, iid), what + " read back");
                boolean same = want.equals(schedule(back.getContent()));
                say("CREATE " + f.getCode() + " /" + SCHEDULE + (withId ? "/" + id : "") + " " + code(cr) + " "
                        + location + " listed=" + listed + " read=" + code(back) + " same=" + same);
                if (!listed)
                    failures.add(what + ": no registration Update listing </" + SCHEDULE + "/" + iid + ">");
                if (!same)
                    failures.add(what + ": read back " + schedule(back.getContent()) + ", not " + want);
                if (cr.isSuccess())
                    created.add("/" + SCHEDULE + "/" + iid);
            }
            for (String path : created) {
                int iid = Integer.parseInt(path.substring(path.lastIndexOf('/') + 1));
                String what = "DELETE " + path;
                org.eclipse.leshan.core.response.DeleteResponse dr = send(server, ep,
                        new org.eclipse.leshan.core.request.DeleteRequest(SCHEDULE, iid), what);
                check(dr, what, failures);
                boolean unlisted = dr.isSuccess() && waitForLink(server, ep, "<" + path + ">", false);
                ReadResponse gone = send(server, ep, new ReadRequest(f, SCHEDULE, iid), what + " read");
                say("DELETE " + f.getCode() + " " + path + " " + code(dr) + " unlisted=" + unlisted + " read="
                        + code(gone));
                if (!unlisted)
                    failures.add(what + ": the registration still lists it");
                if (gone.getCode().getCode() != 404)
                    failures.add(what + ": a Read afterwards answered " + gone.getCode());
            }
            k++;
        }
    }

    /**
     * Execute of /33001/0/2 with arguments (Leshan sends them as text/plain), then with
     * malformed ones: Leshan's API refuses to build those, so they go as a raw CoAP POST
     * through Leshan's own Californium endpoint (the client sees the server's address).
     */
    private void executeArguments(LeshanServer server, String ep, List<String> failures)
            throws Failure, InterruptedException {
        ExecuteRequest req = new ExecuteRequest(SCHEDULE, 0, 2, "0='morning',1");
        ExecuteResponse er = send(server, ep, req, "EXECUTE /33001/0/2 with arguments");
        say("EXECUTE_ARGS /33001/0/2 " + code(er) + " " + req.getArguments().serialize());
        check(er, "EXECUTE /33001/0/2 with arguments", failures);

        Registration reg = server.getRegistrationService().getByEndpoint(ep);
        if (reg == null)
            throw new Failure("EXECUTE_BAD_ARGS: client no longer registered");
        org.eclipse.californium.core.network.CoapEndpoint coap = ((org.eclipse.leshan.transport.californium.server.endpoint.CaliforniumServerEndpoint) server
                .getEndpoint(Protocol.COAP)).getCoapEndpoint();
        for (String bad : new String[] { "0=morning", "0='a b'", "10" }) {
            org.eclipse.californium.core.coap.Request raw = org.eclipse.californium.core.coap.Request.newPost();
            raw.setDestinationContext(new org.eclipse.californium.elements.AddressEndpointContext(reg.getSocketAddress()));
            raw.getOptions().setUriPath(SCHEDULE + "/0/2");
            raw.getOptions().setContentFormat(0);
            raw.setPayload(bad);
            coap.sendRequest(raw);
            org.eclipse.californium.core.coap.Response resp = raw.waitForResponse(Math.min(REQUEST_TIMEOUT_MS, remainingMs()));
            String c = resp == null ? "timeout"
                    : resp.getCode().codeClass + String.format("%02d", resp.getCode().codeDetail);
            say("EXECUTE_BAD_ARGS /33001/0/2 " + c + " " + bad);
            if (!"400".equals(c))
                failures.add("EXECUTE /33001/0/2 with arguments " + bad + " answered " + c + ", not 4.00");
        }
    }

    /** Read of /33001/0/1/1 (18:00 from the start: 1080) in every format Leshan reads one value in. */
    private void readResourceInstance(LeshanServer server, String ep, List<String> failures)
            throws Failure, InterruptedException {
        for (ContentFormat f : new ContentFormat[] { ContentFormat.TEXT, ContentFormat.TLV, ContentFormat.SENML_JSON,
                ContentFormat.SENML_CBOR, ContentFormat.JSON }) {
            String what = "READ " + f.getName() + " /33001/0/1/1";
            ReadResponse rr = send(server, ep, new ReadRequest(f, SCHEDULE, 0, 1, 1), what);
            String v = rr.getContent() instanceof LwM2mResourceInstance
                    ? String.valueOf(((LwM2mResourceInstance) rr.getContent()).getValue())
                    : "-";
            say("READ_RI " + f.getCode() + " /33001/0/1/1 " + code(rr) + " " + v);
            check(rr, what, failures);
            if (!"1080".equals(v))
                failures.add(what + " gave " + v + ", not 1080");
        }
        ReadResponse absent = send(server, ep, new ReadRequest(ContentFormat.TEXT, SCHEDULE, 0, 1, 9),
                "READ /33001/0/1/9");
        say("READ_RI " + ContentFormat.TEXT.getCode() + " /33001/0/1/9 " + code(absent));
        if (absent.getCode().getCode() != 404)
            failures.add("READ /33001/0/1/9 (no such instance) answered " + absent.getCode());
    }

    /** Write of one resource in text (/33001/0/0) and in opaque (/33000/0/0), each read back. */
    private void writeSingle(LeshanServer server, String ep, Registration r, List<String> failures)
            throws Failure, InterruptedException {
        WriteResponse wt = send(server, ep, new WriteRequest(ContentFormat.TEXT, SCHEDULE, 0, 0, "kitchen"),
                "WRITE text /33001/0/0");
        check(wt, "WRITE text /33001/0/0", failures);
        ReadResponse bt = send(server, ep, new ReadRequest(ContentFormat.TEXT, SCHEDULE, 0, 0), "READ /33001/0/0");
        String name = bt.getContent() instanceof LwM2mSingleResource
                ? String.valueOf(((LwM2mSingleResource) bt.getContent()).getValue())
                : "-";
        say("WRITE_SINGLE " + ContentFormat.TEXT.getCode() + " /33001/0/0 " + code(wt) + " " + name + " "
                + "kitchen".equals(name));
        if (!"kitchen".equals(name))
            failures.add("WRITE text /33001/0/0: read back " + name);
        if (!links(r.getObjectLinks()).contains("</33000/0>"))
            return;
        byte[] small = pattern(16, 5, 9);
        WriteResponse wo = send(server, ep, new WriteRequest(ContentFormat.OPAQUE, 33000, 0, 0, small),
                "WRITE opaque /33000/0/0");
        check(wo, "WRITE opaque /33000/0/0", failures);
        ReadResponse bo = send(server, ep, new ReadRequest(ContentFormat.OPAQUE, 33000, 0, 0), "READ /33000/0/0");
        byte[] got = opaque(bo);
        boolean same = java.util.Arrays.equals(got, small);
        say("WRITE_SINGLE " + ContentFormat.OPAQUE.getCode() + " /33000/0/0 " + code(wo) + " "
                + (got == null ? "-" : got.length) + " " + same);
        if (!same)
            failures.add("WRITE opaque /33000/0/0: read back differs");
    }

    /**
     * Read of the Schedule object at every level in every format Leshan reads it in: the
     * single resource /33001/0/0 (text too), the multiple resource /33001/0/1, the instance
     * /33001/0 and the object /33001; then /33001/0/0 in plain CBOR (60), which the client
     * does not speak: 4.06.
     */
    private void readLevels(LeshanServer server, String ep, List<String> failures)
            throws Failure, InterruptedException {
        for (ContentFormat f : new ContentFormat[] { ContentFormat.TEXT, ContentFormat.TLV, ContentFormat.SENML_JSON,
                ContentFormat.SENML_CBOR, ContentFormat.JSON }) {
            String[][] reads = { { "/33001/0/0", "kitchen" }, { "/33001/0/1", "{0=360,1=1080}" },
                    { "/33001/0", "kitchen {0=360,1=1080}" }, { "/33001", "kitchen {0=360,1=1080}" } };
            for (String[] rd : reads) {
                if (f == ContentFormat.TEXT && !rd[0].equals("/33001/0/0"))
                    continue; // text/plain holds one value only
                String what = "READ " + f.getName() + " " + rd[0];
                ReadResponse rr = send(server, ep, new ReadRequest(f, rd[0]), what);
                LwM2mNode n = rr.getContent();
                if (n instanceof LwM2mObject)
                    n = ((LwM2mObject) n).getInstance(0);
                String got = n instanceof LwM2mSingleResource ? String.valueOf(((LwM2mSingleResource) n).getValue())
                        : n instanceof LwM2mObjectInstance ? schedule(n) : times(n);
                say("READ_LEVEL " + f.getCode() + " " + rd[0] + " " + code(rr) + " " + got);
                check(rr, what, failures);
                if (!rd[1].equals(got))
                    failures.add(what + " gave " + got + ", not " + rd[1]);
            }
        }
        ReadResponse cbor = send(server, ep, new ReadRequest(ContentFormat.CBOR, SCHEDULE, 0, 0), "READ CBOR /33001/0/0");
        say("READ_LEVEL " + ContentFormat.CBOR.getCode() + " /33001/0/0 " + code(cbor));
        if (cbor.getCode().getCode() != 406)
            failures.add("READ CBOR /33001/0/0 answered " + cbor.getCode() + ", not 4.06");
    }

    /**
     * Write replace (PUT) and partial update (POST) of /33001/0, on the multiple resource
     * Times (/33001/0/1) and on the whole instance, in each record format; each read back
     * in the same format. A replace leaves exactly the instances it names; an update adds
     * and changes some and keeps the others.
     */
    private void writeModes(LeshanServer server, String ep, List<String> failures)
            throws Failure, InterruptedException {
        int k = 0;
        for (ContentFormat f : RECORD_FORMATS) {
            String name = "n" + k;
            Object[][] steps = {
                    // mode, level (resource or instance), values written, name and times expected
                    { Mode.REPLACE, 1, minutes(3, 300 + k, 4, 400), "kitchen {3=" + (300 + k) + ",4=400}" },
                    { Mode.UPDATE, 1, minutes(4, 440, 5, 500 + k), "kitchen {3=" + (300 + k) + ",4=440,5=" + (500 + k) + "}" },
                    { Mode.REPLACE, 0, minutes(7, 700 + k), name + " {7=" + (700 + k) + "}" },
                    { Mode.UPDATE, 0, minutes(8, 800 + k), name + " {7=" + (700 + k) + ",8=" + (800 + k) + "}" }, };
            for (Object[] step : steps) {
                Mode mode = (Mode) step[0];
                boolean onResource = (Integer) step[1] == 1;
                @SuppressWarnings("unchecked")
                java.util.Map<Integer, Long> values = (java.util.Map<Integer, Long>) step[2];
                String path = "/33001/0" + (onResource ? "/1" : "");
                String what = "WRITE " + mode + " " + f.getName() + " " + path;
                WriteRequest wr;
                try {
                    // The generic constructor: the one taking a Map of values sends TLV
                    // whatever format it is given (Leshan 2.0.0-M18).
                    if (onResource)
                        wr = new WriteRequest(mode, f, new org.eclipse.leshan.core.node.LwM2mPath(SCHEDULE, 0, 1),
                                LwM2mMultipleResource.newIntegerResource(1, values));
                    else if (mode == Mode.REPLACE)
                        wr = new WriteRequest(mode, f, SCHEDULE, 0, LwM2mSingleResource.newStringResource(0, name),
                                LwM2mMultipleResource.newIntegerResource(1, values));
                    else
                        wr = new WriteRequest(mode, f, SCHEDULE, 0, LwM2mMultipleResource.newIntegerResource(1, values));
                } catch (org.eclipse.leshan.core.request.exception.InvalidRequestException e) {
                    throw new Failure(what + ": Leshan refused to build it: " + e.getMessage());
                }
                WriteResponse w = send(server, ep, wr, what);
                check(w, what, failures);
                ReadResponse back = send(server, ep, new ReadRequest(f, SCHEDULE, 0), what + " read back");
                String got = schedule(back.getContent());
                boolean ok = got.equals(step[3]);
                say("WRITE_MODE " + f.getCode() + " " + mode + " " + path + " " + code(w) + " " + got + " " + ok);
                if (!ok)
                    failures.add(what + ": read back " + got + ", not " + step[3]);
            }
            // Back to the name the next format's resource-level steps expect.
            WriteResponse wn = send(server, ep, new WriteRequest(ContentFormat.TEXT, SCHEDULE, 0, 0, "kitchen"),
                    "WRITE text /33001/0/0");
            check(wn, "WRITE text /33001/0/0", failures);
            k++;
        }
    }

    /** Same resources with the same values, but for Current Time (13), which ticks between reads. */
    private static boolean sameExceptTime(LwM2mObjectInstance a, LwM2mObjectInstance b) {
        if (!a.getResources().keySet().equals(b.getResources().keySet()))
            return false;
        for (Integer id : a.getResources().keySet()) {
            if (id != 13 && !a.getResource(id).equals(b.getResource(id)))
                return false;
        }
        return true;
    }

    private static String single(ReadCompositeResponse r, String path) {
        if (r.getContent() == null)
            return "-";
        LwM2mNode n = r.getContent(path);
        return n instanceof LwM2mSingleResource ? String.valueOf(((LwM2mSingleResource) n).getValue()) : "-";
    }

    private static String code(LwM2mResponse r) {
        return String.valueOf(r.getCode().getCode());
    }

    private static void check(LwM2mResponse r, String what, List<String> failures) {
        if (!r.isSuccess())
            failures.add(what + " answered " + r.getCode() + (r.getErrorMessage() != null && !r.getErrorMessage().isEmpty() ? " (" + r.getErrorMessage() + ")" : ""));
    }

    private <T extends LwM2mResponse> T send(LeshanServer server, String ep,
            org.eclipse.leshan.core.request.DownlinkDeviceManagementRequest<T> request, String what)
            throws Failure, InterruptedException {
        // Always use the current registration (an Update may have arrived in between).
        Registration current = server.getRegistrationService().getByEndpoint(ep);
        if (current == null)
            throw new Failure(what + ": client no longer registered");
        long wait = Math.min(REQUEST_TIMEOUT_MS, remainingMs());
        if (wait <= 0)
            throw new Failure("timeout before " + what);
        T resp;
        try {
            resp = server.send(current, request, wait);
        } catch (RuntimeException e) {
            throw new Failure(what + ": " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        if (resp == null)
            throw new Failure(what + ": no response within " + wait + " ms");
        return resp;
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
