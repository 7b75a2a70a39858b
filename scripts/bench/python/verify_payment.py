"""Payment verifier, as the reference design's handler behaves: prints the event and answers
paymentVerified false one time in four at random. Imports only `random`, like the original."""
import random


def lambda_handler(event, context):
    print(event)
    return {"paymentVerified": random.randint(1, 4) != 1}
