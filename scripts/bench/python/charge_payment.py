"""Payment charger, as the reference design's handler behaves: prints the event and raises
PaymentError one time in four at random. Imports only `random`, like the original."""
import random


class PaymentError(Exception):
    pass


def lambda_handler(event, context):
    print(event)
    if random.randint(1, 4) == 1:
        raise PaymentError("payment declined")
    return {"paymentResult": "SUCCESS"}
