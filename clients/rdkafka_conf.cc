// The only file in clients/ that includes librdkafka.
#include "clients/rdkafka_conf.h"

#include <librdkafka/rdkafka.h>

namespace sluice::clients {

void KafkaConfDeleter::operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }

common::Result<KafkaConfPtr> makeKafkaConf(const KafkaProperties& properties, const std::string& client) {
  KafkaConfPtr conf(rd_kafka_conf_new());
  char err[512];
  for (const auto& [name, value] : properties) {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      return common::invalidArgument(client + " property " + name + ": " + err);
    }
  }
  return conf;
}

}  // namespace sluice::clients
