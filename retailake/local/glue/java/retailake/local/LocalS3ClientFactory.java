package retailake.local;

import com.amazonaws.services.s3.AmazonS3;
import com.amazonaws.services.s3.model.CopyObjectRequest;
import com.amazonaws.services.s3.model.InitiateMultipartUploadRequest;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.URI;
import org.apache.hadoop.fs.s3a.DefaultS3ClientFactory;

/**
 * S3A's client factory for the local emulator, which speaks plain HTTP.
 *
 * <p>On every rename S3A copies the source object's SSE-KMS key id into the CopyObject request,
 * and AWS SDK v1 refuses SSE-KMS parameters over HTTP. Dropping them lets the emulator apply
 * the bucket's default encryption to the copy, which is where the key id came from: the same
 * end state as on AWS.
 */
public class LocalS3ClientFactory extends DefaultS3ClientFactory {
  @Override
  public AmazonS3 createS3Client(URI name, S3ClientCreationParameters parameters)
      throws IOException {
    AmazonS3 client = super.createS3Client(name, parameters);
    return (AmazonS3) Proxy.newProxyInstance(
        AmazonS3.class.getClassLoader(),
        new Class<?>[] {AmazonS3.class},
        (proxy, method, args) -> {
          if (args != null) {
            for (Object arg : args) {
              if (arg instanceof CopyObjectRequest) {
                ((CopyObjectRequest) arg).setSSEAwsKeyManagementParams(null);
              } else if (arg instanceof InitiateMultipartUploadRequest) {
                ((InitiateMultipartUploadRequest) arg).setSSEAwsKeyManagementParams(null);
              }
            }
          }
          try {
            return method.invoke(client, args);
          } catch (InvocationTargetException error) {
            throw error.getCause();
          }
        });
  }
}
