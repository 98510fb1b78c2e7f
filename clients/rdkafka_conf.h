#pragma once
// The one place that hands properties to librdkafka (rd_kafka_conf_set), for the worker's consumer
// and producers and the operator's lag probe. rdkafka_conf.cc is the only file here that includes
// librdkafka; this header names its configuration type without including it.
#include <memory>
#include <string>

#include "clients/kafka_settings.h"
#include "common/result.h"

extern "C" {
typedef struct rd_kafka_conf_s rd_kafka_conf_t;  // NOLINT: librdkafka's own spelling
}

namespace sluice::clients {

struct KafkaConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const;
};
// Owned until rd_kafka_new() takes it (then release() it).
using KafkaConfPtr = std::unique_ptr<rd_kafka_conf_t, KafkaConfDeleter>;

// A librdkafka configuration with `properties` set in order. InvalidArgument naming the property
// and librdkafka's reason when one is refused; `client` ("kafka consumer") prefixes the message.
common::Result<KafkaConfPtr> makeKafkaConf(const KafkaProperties& properties, const std::string& client);

}  // namespace sluice::clients
