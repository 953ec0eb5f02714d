// ACL bindings created with Kafka's own Admin client, as Strimzi's User Operator creates a
// KafkaUser's `simple` authorization (tests/integration/test_kafka_acls.py). aiokafka's admin
// client (0.14) has no create_acls, so the test runs this from source with the broker's jars:
//   java -cp 'var/kafka/libs/*' CreateAcls.java CLIENT_PROPERTIES < BINDINGS
// A line of BINDINGS: principal, resource type, resource name, pattern type, operation, each
// as Kafka names it (User:crm-customer, TOPIC, crm.customer.v1, LITERAL, WRITE), tab-separated.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class CreateAcls {
    public static void main(String[] args) throws Exception {
        Properties client = new Properties();
        try (Reader reader = Files.newBufferedReader(Path.of(args[0]))) {
            client.load(reader);
        }
        List<AclBinding> bindings = new ArrayList<>();
        BufferedReader input = new BufferedReader(new InputStreamReader(System.in));
        for (String line = input.readLine(); line != null; line = input.readLine()) {
            String[] field = line.split("\t");
            ResourcePattern resource = new ResourcePattern(
                ResourceType.valueOf(field[1]), field[2], PatternType.valueOf(field[3]));
            // Strimzi's `host` defaults to every host.
            AccessControlEntry entry = new AccessControlEntry(
                field[0], "*", AclOperation.valueOf(field[4]), AclPermissionType.ALLOW);
            bindings.add(new AclBinding(resource, entry));
        }
        try (Admin admin = Admin.create(client)) {
            admin.createAcls(bindings).all().get();
        }
        System.out.println(bindings.size());
    }
}
