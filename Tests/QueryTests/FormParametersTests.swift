import Testing

@testable import Query

/// The query API's form decoding (`application/x-www-form-urlencoded`, in the URL's query or a POST body), as
/// Foundation's `removingPercentEncoding` decoded it before it was written on bytes.
struct FormParametersTests {
    @Test func pairsArePlusAndPercentDecodedAndRepeatedKeysKeepEveryValue() {
        let parameters = PrometheusQueryAPI.formParameters("query=sum(rate(x%5B5m%5D))+by+(job)&match%5B%5D=up&match[]=%7Bjob%3D%22a%22%7D&&flag&=v&e=")
        #expect(parameters["query"] == ["sum(rate(x[5m])) by (job)"])
        #expect(parameters["match[]"] == ["up", "{job=\"a\"}"])
        #expect(parameters["flag"] == [""])
        #expect(parameters[""] == ["v"])
        #expect(parameters["e"] == [""])
        #expect(parameters.count == 5)
    }

    @Test func escapesDecodeToUTF8AndAnEscapedPlusStaysAPlus() {
        #expect(PrometheusQueryAPI.formParameters("q=%C3%A9%2B%2b1%e2%82%ac")["q"] == ["é++1€"])
        #expect(PrometheusQueryAPI.formParameters("q=é a")["q"] == ["é a"])
    }

    @Test(arguments: [
        ("q=100%", "100%"),  // a % at the end
        ("q=%zz+1", "%zz 1"),  // not hex: kept as written, + still a space
        ("q=%C3", "%C3"),  // a lone UTF-8 lead byte
        ("q=%FF%FE", "%FF%FE"),  // not UTF-8
        ("q=a%2", "a%2"),  // one digit short
    ])
    func brokenEscapesKeepThePartAsWritten(_ form: String, _ value: String) {
        #expect(PrometheusQueryAPI.formParameters(form)["q"] == [value])
    }
}
